#include "ops/matmul_int8.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace accent {

namespace {

constexpr float kInt8Max = 127.0f;
// Below this many elements a pass runs on the calling thread: waking the team costs more than the work (one
// sentence's 25 rows × 768), as precision.cpp's conversion does.
constexpr int64_t kParallelElements = int64_t{1} << 15;

// Symmetric scale for values whose largest magnitude is `max_abs` (1 for an all-zero row: any scale gives q = 0).
float symmetric_scale(float max_abs) { return max_abs > 0.0f ? max_abs / kInt8Max : 1.0f; }

// round(v / scale) clamped to [-127, 127], rounding half to even (as torch.round). Adding then subtracting 1.5·2²³
// rounds a |t| < 2²² to an integer in the default rounding mode (the sum's last mantissa bit is the units digit),
// with no library call, so the loops over a row vectorize.
inline int quantize_value(float v, float scale) {
  constexpr float kRoundToInteger = 12582912.0f;  // 1.5·2²³
  const float t = std::min(std::max(v / scale, -kInt8Max), kInt8Max);
  return static_cast<int>((t + kRoundToInteger) - kRoundToInteger);
}

// One row's symmetric scale and its values stored as Out(q + offset): int8_t with offset 0 (the signed values),
// uint8_t with offset 128 (what the u8·s8 product takes).
template <typename Out>
inline void quantize_row(const float* row, int64_t cols, Out* out, float* scale, int offset) {
  float max_abs = 0.0f;
#pragma omp simd reduction(max : max_abs)
  for (int64_t c = 0; c < cols; ++c) max_abs = std::max(max_abs, std::fabs(row[c]));
  const float s = symmetric_scale(max_abs);
  *scale = s;
#pragma omp simd
  for (int64_t c = 0; c < cols; ++c) out[c] = static_cast<Out>(quantize_value(row[c], s) + offset);
}

// Each row of x (rows, cols) quantized with its own symmetric scale.
template <typename Out>
void quantize_rows(const float* x, int64_t rows, int64_t cols, Out* q, float* scale, int offset) {
#pragma omp parallel for schedule(static) if (rows * cols > kParallelElements)
  for (int64_t r = 0; r < rows; ++r) quantize_row(x + r * cols, cols, q + r * cols, scale + r, offset);
}

// One row of the cpu product's epilogue: Σ (q+128)·w − 128·Σ w = Σ q·w exactly, then (· s_w[n]) · s_x + bias[n]
// as ref computes it.
inline void dequantize_row(const int32_t* acc, const int32_t* w_sums, const float* w_scale, float sx,
                           const float* bias, float* out, int64_t N) {
#pragma omp simd
  for (int64_t n = 0; n < N; ++n) {
    const float product = static_cast<float>(acc[n] - 128 * w_sums[n]) * w_scale[n];
    out[n] = product * sx + (bias ? bias[n] : 0.0f);
  }
}

// The int32 products of rows quantized ahead, in per-thread scratch that grows to the largest product seen.
int32_t* u8s8_products(const GemmShape& s, QuantizedRows A, const Int8Operand& W) {
  thread_local std::vector<int32_t> products;
  if (static_cast<int64_t>(products.size()) < s.M * s.N) products.resize(static_cast<size_t>(s.M * s.N));
  int32_t* acc = products.data();
  if (W.packed && !W.packed->empty())
    cpu::gemm_u8s8_packed(s.M, A.values, *W.packed, acc);
  else
    cpu::gemm_u8s8(s, A.values, W.values, acc);
  return acc;
}

void check_int8_shape(const GemmShape& s) {
  ACCENT_CHECK(s.batch == 1 && !s.trans_a && s.M >= 0 && s.N >= 0 && s.K >= 0,
               "gemm_int8_dynamic: takes one (M, K) activation and a weight, got batch=", s.batch,
               s.trans_a ? " Aᵀ" : "", " M=", s.M, " N=", s.N, " K=", s.K);
}

}  // namespace

void quantize_rows_s8(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scale) {
  quantize_rows(x, rows, cols, q, scale, 0);
}

void quantize_rows_u8(const float* x, int64_t rows, int64_t cols, uint8_t* q, float* scale) {
  quantize_rows(x, rows, cols, q, scale, 128);
}

void quantize_columns_s8(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scale) {
  std::vector<float> max_abs(static_cast<size_t>(cols), 0.0f);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) max_abs[c] = std::max(max_abs[c], std::fabs(x[r * cols + c]));
  for (int64_t c = 0; c < cols; ++c) scale[c] = symmetric_scale(max_abs[c]);
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r)
#pragma omp simd
    for (int64_t c = 0; c < cols; ++c) q[r * cols + c] = static_cast<int8_t>(quantize_value(x[r * cols + c], scale[c]));
}

void int8_column_sums(const int8_t* B, int64_t K, int64_t N, bool trans_b, int32_t* b_sums) {
  for (int64_t n = 0; n < N; ++n) b_sums[n] = 0;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t n = 0; n < N; ++n) b_sums[n] += trans_b ? B[n * K + k] : B[k * N + n];
}

void gemm_int8_dynamic(const OpContext& ctx, const GemmShape& shape, const float* A, const Int8Operand& B,
                       const float* bias, float* C) {
  check_op_context(ctx, "gemm_int8_dynamic");
  ACCENT_CHECK(ctx.backend != Backend::Cuda, "int8 inference runs on the CPU only; the GPU backend has no int8 "
               "matmul (use --device cpu with --precision int8, or bf16 on the GPU)");
  check_int8_shape(shape);
  if (shape.M == 0 || shape.N == 0) return;
  if (ctx.backend == Backend::Ref) {
    ref::gemm_int8_dynamic(shape, A, B, bias, C);
  } else {
    cpu::gemm_int8_dynamic(shape, A, B, bias, C);
  }
}

namespace ref {

void gemm_int8_dynamic(const GemmShape& s, const float* A, const Int8Operand& W, const float* bias, float* C) {
  const int8_t* B = W.values;
  const float* b_scale = W.scale;
  std::vector<int8_t> a_q(static_cast<size_t>(s.M * s.K));
  std::vector<float> a_scale(static_cast<size_t>(s.M));
  quantize_rows_s8(A, s.M, s.K, a_q.data(), a_scale.data());
  for (int64_t m = 0; m < s.M; ++m)
    for (int64_t n = 0; n < s.N; ++n) {
      int32_t acc = 0;
      for (int64_t k = 0; k < s.K; ++k) {
        const int8_t b = s.trans_b ? B[n * s.K + k] : B[k * s.N + n];
        acc += static_cast<int32_t>(a_q[m * s.K + k]) * static_cast<int32_t>(b);
      }
      const float product = static_cast<float>(acc) * b_scale[n];
      C[m * s.N + n] = product * a_scale[m] + (bias ? bias[n] : 0.0f);
    }
}

}  // namespace ref

namespace cpu {

void gemm_int8_dynamic(const GemmShape& s, const float* A, const Int8Operand& W, const float* bias, float* C) {
  // Per-thread scratch for the quantized activations (q + 128 as u8); grows to the largest batch seen.
  thread_local std::vector<uint8_t> a_u8;
  thread_local std::vector<float> a_scale;
  if (static_cast<int64_t>(a_u8.size()) < s.M * s.K) a_u8.resize(static_cast<size_t>(s.M * s.K));
  if (static_cast<int64_t>(a_scale.size()) < s.M) a_scale.resize(static_cast<size_t>(s.M));
  quantize_rows_u8(A, s.M, s.K, a_u8.data(), a_scale.data());
  gemm_int8_quantized(s, QuantizedRows{a_u8.data(), a_scale.data()}, W, bias, C);
}

void gemm_int8_quantized(const GemmShape& s, QuantizedRows A, const Int8Operand& W, const float* bias, float* C) {
  check_int8_shape(s);
  if (s.M == 0 || s.N == 0) return;
  const int32_t* acc = u8s8_products(s, A, W);
  const int64_t N = s.N;
#pragma omp parallel for schedule(static) if (s.M * N > kParallelElements)
  for (int64_t m = 0; m < s.M; ++m) dequantize_row(acc + m * N, W.sums, W.scale, A.scale[m], bias, C + m * N, N);
}

void gemm_int8_act_quantized(const GemmShape& s, QuantizedRows A, const Int8Operand& W, const float* bias,
                             Activation act, uint8_t* q, float* q_scale) {
  check_int8_shape(s);
  if (s.M == 0) return;
  const int32_t* acc = u8s8_products(s, A, W);
  const int64_t N = s.N;
#pragma omp parallel if (s.M * N > kParallelElements)
  {
    thread_local std::vector<float> row;  // one row of h, in cache
    if (static_cast<int64_t>(row.size()) < N) row.resize(static_cast<size_t>(N));
    float* h = row.data();
#pragma omp for schedule(static)
    for (int64_t m = 0; m < s.M; ++m) {
      dequantize_row(acc + m * N, W.sums, W.scale, A.scale[m], bias, h, N);
      activation_forward_span_cpu(act, h, h, N);  // activation_forward's cpu arithmetic
      quantize_row(h, N, q + m * N, q_scale + m, 128);
    }
  }
}

}  // namespace cpu

}  // namespace accent
