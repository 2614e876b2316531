// nn/freeze.h — frozen parameters: requires_grad=False as the optimizer and the backward passes see it.
//
// A frozen parameter has trainable = false and NO gradient buffer (grad is an empty tensor), so it costs no memory
// beyond its value: modules skip its weight-gradient products (Linear), accumulations (Embedding) and AdamW keeps
// no state for it. Input gradients still flow through frozen modules.
#pragma once
#include "nn/parameter.h"

namespace accent {

void freeze(Parameter& p);    // trainable = false, grad released
void unfreeze(Parameter& p);  // trainable = true, zero gradient of the value's shape
// Bytes of gradient buffers held by `params` (0 for frozen ones).
int64_t gradient_bytes(const ParameterList& params);
// Whether any of `params` is trainable (a backward into them produces a gradient somebody keeps).
bool any_trainable(const ParameterList& params);

}  // namespace accent
