// ops/cuda/runtime.h — what the CUDA kernels of ops/cuda share: the stream, error checks, grow-only workspaces and
// launch geometry. Internal to ops/cuda (includes the CUDA runtime header; only for CUDA builds).
#pragma once
#include <cuda_runtime.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>

namespace accent::cuda {

// accent's one stream (created on first use; throws when no GPU is usable).
cudaStream_t stream();
// Throws accent::Error naming `what` when err is not cudaSuccess.
void check(cudaError_t err, const char* what);

// Scratch memory that an op needs between its kernels. Each slot is one grow-only buffer: it reallocates only when
// a larger size is asked for, so steps of a shape already seen allocate nothing. A slot's contents are valid until
// the next request for the same slot (ops run in stream order, one at a time).
enum class Workspace : int {
  CublasLt,        // cuBLASLt's algorithm workspace
  GemmA,           // A rounded to bf16 (bf16 matmuls)
  GemmB,           // B rounded to bf16
  ColumnPartials,  // per-row-block partial column sums (LayerNorm/bias gradients)
  SortKeys,        // embedding backward: ids sorted with their positions
  SortTemp,        // CUB's temporary storage
  ErrorFlag,       // first out-of-range index seen by a kernel
  TensorList,      // multi-tensor ops: the tensors' descriptors and the per-block task list
  NormPartials,    // multi-tensor norm: per-block and per-tensor sums
  Count
};
void* workspace(Workspace slot, size_t bytes);

// Launch geometry: a grid-stride loop over n elements with 256 threads, at most enough blocks to fill the GPU.
constexpr int kThreads = 256;
inline unsigned grid_for(int64_t n, int threads = kThreads) {
  const int64_t blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<int64_t>(blocks, 1, 132 * 32));
}

// Checks the launch just queued (configuration errors appear here; execution errors at the next synchronize).
inline void check_launch(const char* what) { check(cudaGetLastError(), what); }

}  // namespace accent::cuda
