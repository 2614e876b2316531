// ops/memory.h — the memory an OpContext's pointers live in, and copies between it and the host.
//
// Ref and Cpu ops read host memory; Cuda ops read the GPU's (ops/cuda/device.h). Modules allocate their tensors
// and scratch in memory_for(ctx) and stage host data (token ids, masks, labels) with copy_from_host, so nn/,
// models/ and train/ never test which device they run on.
#pragma once
#include <cstddef>

#include "core/memory.h"
#include "ops/backend.h"

namespace accent {

// host_memory() for Ref/Cpu; the GPU's memory for Cuda (throws naming what is missing when there is no usable GPU
// or the binary has no CUDA backend).
const MemoryResource& memory_for(const OpContext& ctx);

// Byte copies in ctx's memory (queued on the GPU's stream for Cuda, like the ops).
void copy_from_host(const OpContext& ctx, void* dst, const void* host_src, size_t bytes);
void copy_to_host(const OpContext& ctx, void* host_dst, const void* src, size_t bytes);
void copy_bytes(const OpContext& ctx, void* dst, const void* src, size_t bytes);
void fill_zero(const OpContext& ctx, void* dst, size_t bytes);

}  // namespace accent
