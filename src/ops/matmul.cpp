#include "ops/matmul.h"

#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/precision.h"

namespace accent {

namespace {
void check_shape(const GemmShape& s) {
  ACCENT_CHECK(s.batch >= 1 && s.M >= 0 && s.N >= 0 && s.K >= 0, "gemm: bad shape batch=", s.batch, " M=", s.M,
               " N=", s.N, " K=", s.K);
}
}  // namespace

void gemm(const OpContext& ctx, const GemmShape& shape, const float* A, const float* B, const float* bias, float* C,
          bool accumulate) {
  check_op_context(ctx, "gemm");
  if (ctx.backend == Backend::Cuda)
    return ACCENT_ON_CUDA(gemm, shape, A, B, bias, C, accumulate, ctx.precision, ctx.allow_tf32);
  check_shape(shape);
  if (shape.M == 0 || shape.N == 0) return;
  const bool bf16 = ctx.precision == Precision::BF16;
  if (ctx.backend == Backend::Ref) {
    bf16 ? ref::gemm_bf16(shape, A, B, bias, C, accumulate) : ref::gemm(shape, A, B, bias, C, accumulate);
  } else {
    bf16 ? cpu::gemm_bf16(shape, A, B, bias, C, accumulate) : cpu::gemm(shape, A, B, bias, C, accumulate);
  }
}

void gemm_bf16_weights(const OpContext& ctx, const GemmShape& shape, const float* A, const uint16_t* B_bf16,
                       const float* bias, float* C, bool accumulate) {
  check_op_context(ctx, "gemm_bf16_weights");
  ACCENT_CHECK(ctx.precision == Precision::BF16, "gemm_bf16_weights: needs Precision::BF16, got ",
               precision_name(ctx.precision));
  check_shape(shape);
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(gemm_bf16_weights, shape, A, B_bf16, bias, C, accumulate);
  if (shape.M == 0 || shape.N == 0) return;
  if (ctx.backend == Backend::Ref) {
    ref::gemm_bf16_weights(shape, A, B_bf16, bias, C, accumulate);
  } else {
    cpu::gemm_bf16_weights(shape, A, B_bf16, bias, C, accumulate);
  }
}

void column_sum_accumulate(const OpContext& ctx, const float* dy, float* dbias, int64_t rows, int64_t cols) {
  check_op_context(ctx, "column_sum");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(column_sum_accumulate, dy, dbias, rows, cols);
  if (ctx.backend == Backend::Ref) {
    ref::column_sum_accumulate(dy, dbias, rows, cols);
  } else {
    cpu::column_sum_accumulate(dy, dbias, rows, cols);
  }
}

void linear_forward(const OpContext& ctx, const float* x, const float* weight, const float* bias, float* y,
                    int64_t rows, int64_t in, int64_t out) {
  GemmShape s;
  s.M = rows, s.N = out, s.K = in, s.trans_b = true;  // W (out, in) = (N, K)
  gemm(ctx, s, x, weight, bias, y, false);
}

void linear_backward_input(const OpContext& ctx, const float* dy, const float* weight, float* dx, int64_t rows,
                           int64_t in, int64_t out) {
  GemmShape s;
  s.M = rows, s.N = in, s.K = out;  // dy (rows, out) · W (out, in)
  gemm(ctx, s, dy, weight, nullptr, dx, false);
}

void linear_backward_weight(const OpContext& ctx, const float* x, const float* dy, float* dweight, float* dbias,
                            int64_t rows, int64_t in, int64_t out) {
  GemmShape s;
  s.M = out, s.N = in, s.K = rows, s.trans_a = true;  // dy stored (rows, out) = (K, M); x (rows, in) = (K, N)
  if (rows > 0) gemm(ctx, s, dy, x, nullptr, dweight, true);
  if (dbias) column_sum_accumulate(ctx, dy, dbias, rows, out);
}

namespace ref {

void gemm(const GemmShape& s, const float* A, const float* B, const float* bias, float* C, bool accumulate) {
  for (int64_t b = 0; b < s.batch; ++b) {
    const float* a = A + b * s.M * s.K;
    const float* bm = B + b * s.K * s.N;
    float* c = C + b * s.M * s.N;
    for (int64_t m = 0; m < s.M; ++m) {
      for (int64_t n = 0; n < s.N; ++n) {
        float sum = 0.0f;
        for (int64_t k = 0; k < s.K; ++k) {
          const float av = s.trans_a ? a[k * s.M + m] : a[m * s.K + k];
          const float bv = s.trans_b ? bm[n * s.K + k] : bm[k * s.N + n];
          sum += av * bv;
        }
        if (bias) sum += bias[n];
        c[m * s.N + n] = accumulate ? c[m * s.N + n] + sum : sum;
      }
    }
  }
}

void gemm_bf16(const GemmShape& s, const float* A, const float* B, const float* bias, float* C, bool accumulate) {
  std::vector<float> a(A, A + s.batch * s.M * s.K), b(B, B + s.batch * s.K * s.N);
  round_to_bf16(a.data(), static_cast<int64_t>(a.size()));
  round_to_bf16(b.data(), static_cast<int64_t>(b.size()));
  gemm(s, a.data(), b.data(), bias, C, accumulate);
}

void gemm_bf16_weights(const GemmShape& s, const float* A, const uint16_t* B_bf16, const float* bias, float* C,
                       bool accumulate) {
  std::vector<float> a(A, A + s.batch * s.M * s.K), b(static_cast<size_t>(s.batch * s.K * s.N));
  round_to_bf16(a.data(), static_cast<int64_t>(a.size()));
  for (size_t i = 0; i < b.size(); ++i) b[i] = bf16_to_f32(B_bf16[i]);
  gemm(s, a.data(), b.data(), bias, C, accumulate);
}

void column_sum_accumulate(const float* dy, float* dbias, int64_t rows, int64_t cols) {
  for (int64_t c = 0; c < cols; ++c) {
    float sum = 0.0f;
    for (int64_t r = 0; r < rows; ++r) sum += dy[r * cols + c];
    dbias[c] += sum;
  }
}

}  // namespace ref
}  // namespace accent
