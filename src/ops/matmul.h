// ops/matmul.h — (batched) matrix products and the three products of a Linear layer.
//
// Contract of gemm: for each batch index b (batches contiguous, C-order):
//   C[b] (M, N)  =  op(A[b]) · op(B[b])  (+ bias[N] broadcast over rows)  (+ C[b] when accumulate)
// op(A) is A stored (M, K), or (K, M) transposed when trans_a; op(B) is B stored (K, N), or (N, K) when trans_b.
// Linear (torch.nn.Linear, weight stored (out, in)):
//   forward          y  = x · Wᵀ + b            x (N, in), W (out, in), y (N, out)
//   backward input   dx = dy · W                 (overwrites dx)
//   backward weight  dW += dyᵀ · x ; db += Σ_rows dy   (parameter gradients accumulate)
// ref: triple loop, fp32 accumulation. cpu: oneDNN matmul, one primitive per shape created once and cached.
// Precision::BF16 (mixed precision, ops/precision.h): A and B are rounded to bf16 (round to nearest even), products
// accumulate in fp32 and C (and bias, and the accumulated C) stay fp32. ref does exactly that with its triple loop,
// so cpu-bf16 vs ref-bf16 differs only by summation order; cpu runs oneDNN's bf16 matmul (AMX / AVX512-BF16).
#pragma once
#include <cstdint>

#include "ops/backend.h"

namespace accent {

struct GemmShape {
  int64_t batch = 1;
  int64_t M = 0, N = 0, K = 0;
  bool trans_a = false;  // A stored (K, M)
  bool trans_b = false;  // B stored (N, K)
};

// bias may be null (only allowed with batch == 1 in the cpu path... and in ref: any batch).
void gemm(const OpContext& ctx, const GemmShape& shape, const float* A, const float* B, const float* bias, float* C,
          bool accumulate);

// Same as gemm under Precision::BF16, with B already in bf16 (e.g. a Linear weight converted once per step and
// reused by forward and backward). A is converted per call. ctx.precision must be BF16.
void gemm_bf16_weights(const OpContext& ctx, const GemmShape& shape, const float* A, const uint16_t* B_bf16,
                       const float* bias, float* C, bool accumulate);

void linear_forward(const OpContext& ctx, const float* x, const float* weight, const float* bias, float* y,
                    int64_t rows, int64_t in, int64_t out);
void linear_backward_input(const OpContext& ctx, const float* dy, const float* weight, float* dx, int64_t rows,
                           int64_t in, int64_t out);
// dweight += dyᵀ·x; dbias += column sums of dy (dbias may be null).
void linear_backward_weight(const OpContext& ctx, const float* x, const float* dy, float* dweight, float* dbias,
                            int64_t rows, int64_t in, int64_t out);
// dbias[c] += Σ_r dy[r, c] for dy (rows, cols).
void column_sum_accumulate(const OpContext& ctx, const float* dy, float* dbias, int64_t rows, int64_t cols);

namespace ref {
void gemm(const GemmShape& shape, const float* A, const float* B, const float* bias, float* C, bool accumulate);
// A, B rounded to bf16 first (copies), then the fp32 triple loop. B_bf16 variant: B given as bf16 bits.
void gemm_bf16(const GemmShape& shape, const float* A, const float* B, const float* bias, float* C, bool accumulate);
void gemm_bf16_weights(const GemmShape& shape, const float* A, const uint16_t* B_bf16, const float* bias, float* C,
                       bool accumulate);
void column_sum_accumulate(const float* dy, float* dbias, int64_t rows, int64_t cols);
}  // namespace ref
namespace cpu {
void gemm(const GemmShape& shape, const float* A, const float* B, const float* bias, float* C, bool accumulate);
// oneDNN bf16 matmul, fp32 accumulation and dst. A (and B) converted into reusable per-thread scratch buffers.
void gemm_bf16(const GemmShape& shape, const float* A, const float* B, const float* bias, float* C, bool accumulate);
void gemm_bf16_weights(const GemmShape& shape, const float* A, const uint16_t* B_bf16, const float* bias, float* C,
                       bool accumulate);
void column_sum_accumulate(const float* dy, float* dbias, int64_t rows, int64_t cols);
// oneDNN's implementation name for a shape ("brg:avx512_core", "gemm:jit", ... ; "ref" would be slow).
const char* gemm_impl_name(const GemmShape& shape, bool has_bias, bool accumulate, bool bf16 = false);
// oneDNN matmul primitives created so far by this process (the cache's misses; tests check what it keeps).
int64_t gemm_primitives_created();
}  // namespace cpu

}  // namespace accent
