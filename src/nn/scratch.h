// nn/scratch.h — grow-only activation buffers.
//
// Modules keep what backward needs in ScratchBuffers sized on first use for a (B, T): a later step whose sizes
// are no larger reuses the memory, so the training step allocates nothing once the largest shape has been seen.
// total_allocations() counts every (re)allocation in the process, so tests can check that claim.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace accent {

class ScratchBuffer {
 public:
  // A buffer of at least n elements (contents unspecified after growth). 64-byte aligned.
  float* f32(int64_t n) { return static_cast<float*>(reserve(n * static_cast<int64_t>(sizeof(float)))); }
  uint8_t* u8(int64_t n) { return static_cast<uint8_t*>(reserve(n)); }
  int64_t capacity_bytes() const { return storage_.numel(); }

  static int64_t total_allocations();

 private:
  void* reserve(int64_t bytes);
  Tensor storage_;  // U8
};

}  // namespace accent
