// ops/tensor_ops.h — small memory-bound helpers the modules need between the big ops.
//
// Contracts:
//   add            y = a + b (elementwise, n elements; y may alias a or b)
//   add_inplace    y += a
//   multiply_inplace  y *= a (elementwise)
//   scale_inplace  y *= s (one scalar)
//   split_heads    x (B, T, NH·D) → y (B, NH, T, D)     the view+transpose of HF's transpose_for_scores, copied
//   merge_heads    x (B, NH, T, D) → y (B, T, NH·D)     inverse (context.permute(0, 2, 1, 3).view(B, T, H))
//   split_qkv_heads  x (B, T, 3·NH·D) → y (3, B, NH, T, D)  a fused q|k|v projection (GPT-2 c_attn: split(H, dim=2)
//                  then _split_heads on each part)
//   merge_qkv_heads  the inverse
//   fill_causal    scores (BNH, T, T): scores[m, i, j] = finfo.min for every key j > i (causal attention)
//   gather_rows    y[b, :] = x[b, index, :] for x (B, T, C)     (token 0 for the BERT pooler)
//   scatter_rows   dx (B, T, C) = 0 except dx[b, index, :] = dy[b, :]
//   gather_token_rows   y (N, C): y[i, :] = x[index[i], :]                 a padded (R, C) tensor's real rows,
//                                                                        packed (nn/token_packing.h)
//   scatter_token_rows  y (R, C) = 0 except y[index[i], :] = x[i, :]      the inverse (distinct indices < R)
#pragma once
#include <cstdint>

#include "ops/backend.h"

namespace accent {

void add(const OpContext& ctx, const float* a, const float* b, float* y, int64_t n);
void add_inplace(const OpContext& ctx, const float* a, float* y, int64_t n);
void multiply_inplace(const OpContext& ctx, const float* a, float* y, int64_t n);
void scale_inplace(const OpContext& ctx, float s, float* y, int64_t n);
void split_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D);
void merge_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D);
void split_qkv_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D);
void merge_qkv_heads(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t NH, int64_t D);
void fill_causal(const OpContext& ctx, float* scores, int64_t BNH, int64_t T);
// scores (BNH, T, T): scores[m, i, j] = finfo.min for every key with |i − j| > half_window (ModernBERT's local
// attention: a window of 2·half_window + 1 keys around each query). CPU and ref only (no CUDA kernel yet).
void fill_outside_window(const OpContext& ctx, float* scores, int64_t BNH, int64_t T, int64_t half_window);
void gather_rows(const OpContext& ctx, const float* x, float* y, int64_t B, int64_t T, int64_t C, int64_t index);
void scatter_rows(const OpContext& ctx, const float* dy, float* dx, int64_t B, int64_t T, int64_t C, int64_t index);
void gather_token_rows(const OpContext& ctx, const float* x, const int32_t* index, float* y, int64_t N, int64_t R,
                       int64_t C);
void scatter_token_rows(const OpContext& ctx, const float* x, const int32_t* index, float* y, int64_t N, int64_t R,
                        int64_t C);

}  // namespace accent
