// ops/disentangled_scores.h — DeBERTa-v2's relative attention terms gathered into (T, T) score addends
// (DisentangledSelfAttention.disentangled_attention_bias). Per (batch, head) block, with the content-to-position
// products c2p = Q·Kposᵀ (T, R) and position-to-content products p2c = K·Qposᵀ (T, R) over the R = 2·att_span
// relative-position rows, and idx (T, T) = clamp(bucket(i − j) + att_span, 0, R − 1):
//   R[i, j] = c2p[i, idx[i, j]] + p2c[j, idx[i, j]]
// (HF gathers p2c with clamp(−bucket(j − i) + att_span) and transposes; the log bucket is odd, so the index is the
// same.) Either term may be absent (null: pos_att_type without "c2p" / "p2c").
// Backward scatters: dc2p[i, r] = Σ_j [idx[i, j] = r]·dR[i, j];  dp2c[j, r] = Σ_i [idx[i, j] = r]·dR[i, j].
// CPU and ref backends (one thread per block on CPU); no CUDA kernel yet (an error says so).
#pragma once
#include <cstdint>

#include "ops/backend.h"

namespace accent {

// c2p, p2c (blocks, T, R) or null; idx (T, T) int32 in [0, R); out (blocks, T, T) overwritten.
void disentangled_scores_forward(const OpContext& ctx, const float* c2p, const float* p2c, const int32_t* idx,
                                 float* out, int64_t blocks, int64_t T, int64_t R);
// dout (blocks, T, T) → dc2p, dp2c (blocks, T, R) overwritten (each may be null).
void disentangled_scores_backward(const OpContext& ctx, const float* dout, const int32_t* idx, float* dc2p,
                                  float* dp2c, int64_t blocks, int64_t T, int64_t R);

}  // namespace accent
