#include "ops/memory.h"

#include <algorithm>
#include <cstring>

#include "ops/cuda/device.h"

namespace accent {

const MemoryResource& memory_for(const OpContext& ctx) {
  if (ctx.backend != Backend::Cuda) return host_memory();
  cuda::require_device("--device cuda");  // names what is missing: the CUDA backend in this build, a driver, a GPU
  return cuda::device_memory();
}

void copy_from_host(const OpContext& ctx, void* dst, const void* host_src, size_t bytes) {
  memory_for(ctx).copy_from_host(dst, host_src, bytes);
}
void copy_to_host(const OpContext& ctx, void* host_dst, const void* src, size_t bytes) {
  memory_for(ctx).copy_to_host(host_dst, src, bytes);
}
void copy_bytes(const OpContext& ctx, void* dst, const void* src, size_t bytes) { memory_for(ctx).copy(dst, src, bytes); }
void fill_zero(const OpContext& ctx, void* dst, size_t bytes) {
  if (ctx.backend == Backend::Cuda) return memory_for(ctx).fill_zero(dst, bytes);
  // Host: in parallel chunks (a gradient of a base model is ~440 MB, zeroed every optimizer step).
  constexpr size_t kChunk = size_t{1} << 20;
  const int64_t chunks = static_cast<int64_t>((bytes + kChunk - 1) / kChunk);
  auto* base = static_cast<std::byte*>(dst);
#pragma omp parallel for schedule(static) if (chunks > 1)
  for (int64_t c = 0; c < chunks; ++c) {
    const size_t begin = static_cast<size_t>(c) * kChunk;
    std::memset(base + begin, 0, std::min(kChunk, bytes - begin));
  }
}

}  // namespace accent
