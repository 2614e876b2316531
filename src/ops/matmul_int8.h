// ops/matmul_int8.h — dynamic int8 matrix products for inference (what torch.ao.quantization.quantize_dynamic runs
// for nn.Linear, with per-row instead of per-tensor activation scales).
//
// A weight W is quantized once, per output channel, symmetric:   s_w[n] = max_k |W[n,k]| / 127,
//   Wq[n,k] = round(W[n,k] / s_w[n]) ∈ [-127, 127]                                   (round half to even)
// An activation row x (one token) is quantized at run time the same way with its own scale s_x[m]. The product
// accumulates in int32 (exact: |Σ| ≤ K·127² fits for K < 133 000) and leaves as
//   C[m,n] = (float(Σ_k Xq[m,k]·Wq[n,k]) · s_w[n]) · s_x[m] + bias[n]
// in that order in every backend, so ref and cpu differ only where fp32 rounding of the two products differs.
// cpu runs oneDNN's u8·s8 matmul (AVX512-VNNI's vpdpbusd multiplies unsigned by signed bytes): the activations go
// in as Xq + 128 ∈ [1, 255] and the int32 result is corrected exactly by −128·Σ_k Wq[n,k] (the weight's column
// sums, computed once per weight), then scaled as above in one pass. ref is a triple loop on the signed values.
// There is no backward: an int8 layer is inference-only.
#pragma once
#include <cstdint>

#include "ops/activation.h"
#include "ops/backend.h"
#include "ops/matmul.h"
#include "ops/packed_weight.h"

namespace accent {

// Each of `rows` rows of x (rows, cols) to int8 with its own symmetric scale: q (rows, cols), scale (rows). An
// all-zero row gets scale 1 (q = 0). Parallel over rows.
void quantize_rows_s8(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scale);
// The same per column of x (rows, cols): scale (cols) — a weight stored (in, out) such as GPT-2's Conv1D.
void quantize_columns_s8(const float* x, int64_t rows, int64_t cols, int8_t* q, float* scale);

// b_sums (N) = Σ_k op(B)[k, n] for B int8 stored (K, N), or (N, K) when trans_b.
void int8_column_sums(const int8_t* B, int64_t K, int64_t N, bool trans_b, int32_t* b_sums);

// An int8 weight as the product reads it: values stored (K, N), or (N, K) when the shape says trans_b; scale (N);
// sums (N) from int8_column_sums; optionally the same values packed for the cpu product (ops/packed_weight.h
// pack_weight_s8), which cpu then multiplies instead of `values` (ref ignores it).
struct Int8Operand {
  const int8_t* values = nullptr;
  const float* scale = nullptr;
  const int32_t* sums = nullptr;
  const PackedWeight* packed = nullptr;
};

// C (M, N) = quantize_rows(A (M, K)) · op(B) with B's per-column scales, + bias (N, may be null). batch 1, no
// trans_a. Backend Ref or Cpu (the GPU has no int8 path: it throws); ctx.precision does not matter.
void gemm_int8_dynamic(const OpContext& ctx, const GemmShape& shape, const float* A, const Int8Operand& B,
                       const float* bias, float* C);

// Activations quantized ahead for the cpu product: each row as q + 128 (u8, what the u8·s8 product takes) with its
// scale. One quantization can then serve several products (the query, key and value projections of one x), and a
// product's output can leave as the next product's input (the int8 feed-forward: cpu::gemm_int8_act_quantized).
struct QuantizedRows {
  const uint8_t* values = nullptr;  // (M, K), q + 128
  const float* scale = nullptr;     // (M)
};
// Each row of x (rows, cols) quantized as quantize_rows_s8 does, stored q + 128. Parallel over rows.
void quantize_rows_u8(const float* x, int64_t rows, int64_t cols, uint8_t* q, float* scale);

namespace ref {
void gemm_int8_dynamic(const GemmShape& shape, const float* A, const Int8Operand& B, const float* bias, float* C);
}  // namespace ref
namespace cpu {
void gemm_int8_dynamic(const GemmShape& shape, const float* A, const Int8Operand& B, const float* bias, float* C);
// C (M, N) = A (M, K) · op(B) in int32: oneDNN's u8·s8 matmul (batch 1, no trans_a).
void gemm_u8s8(const GemmShape& shape, const uint8_t* A, const int8_t* B, int32_t* C);
// gemm_int8_dynamic after its quantization: the product of rows quantized ahead (quantize_rows_u8), the same numbers.
void gemm_int8_quantized(const GemmShape& shape, QuantizedRows A, const Int8Operand& B, const float* bias, float* C);
// The int8 feed-forward's middle, fused: h = act(A · op(B) + bias) quantized per row for the next product, into
// q (M, N) as q + 128 and q_scale (M). Each row goes from the int32 products to u8 in cache — h is never written
// out — and equals, bit for bit, gemm_int8_quantized → activation_forward (cpu) → quantize_rows_u8.
void gemm_int8_act_quantized(const GemmShape& shape, QuantizedRows A, const Int8Operand& B, const float* bias,
                             Activation act, uint8_t* q, float* q_scale);
}  // namespace cpu

}  // namespace accent
