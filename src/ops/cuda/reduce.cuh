// ops/cuda/reduce.cuh — block-wide sums for the row kernels (one block per row). Internal to ops/cuda.
#pragma once
#include <cuda_runtime.h>

namespace accent::cuda {

// The sum of v over the block, returned to every thread. `shared` holds one T per warp (32 at most). Calls in a
// row must be separated by __syncthreads() when they reuse `shared` (block_sum does it itself at the end).
template <typename T>
__device__ inline T block_sum(T v, T* shared) {
  for (int offset = 16; offset > 0; offset >>= 1) v += __shfl_down_sync(0xffffffffu, v, offset);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = 0;
  for (int w = 0; w < warps; ++w) total += shared[w];  // every thread sums the warps in the same order
  __syncthreads();
  return total;
}

template <typename T>
__device__ inline T block_max(T v, T* shared) {
  for (int offset = 16; offset > 0; offset >>= 1) v = max(v, __shfl_down_sync(0xffffffffu, v, offset));
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T total = shared[0];
  for (int w = 1; w < warps; ++w) total = max(total, shared[w]);
  __syncthreads();
  return total;
}

}  // namespace accent::cuda
