// nn/parameter_placement.h — moving parameters between memories (host RAM, the GPU's).
//
// A model is built and loaded on the host (checkpoint files, initialisation, LoRA wrapping, freezing), then moved
// once to the memory its op context runs in (ops/memory.h). Every handle of a parameter's storage afterwards points
// into the new memory; the host copy is released when no other handle holds it.
#pragma once
#include "core/memory.h"
#include "nn/parameter.h"

namespace accent {

// Moves value and grad (when defined) of every parameter into `memory`; parameters already there are untouched.
void move_parameters(const ParameterList& params, const MemoryResource& memory);

}  // namespace accent
