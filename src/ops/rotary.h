// ops/rotary.h — rotary position embeddings (RoPE) as Hugging Face's Qwen2/Llama apply them: the "half-split"
// (GPT-NeoX) layout, on each head of queries and keys.
//
//   inv_freq[i] = 1 / θ^(2i/D), i < D/2                fp32, as transformers computes it (θ and 2i/D in fp32)
//   llama3 scaling (rope_type "llama3"): with wavelength λ = 2π/inv_freq, old = original_max_position_embeddings,
//     λ > old/low_freq_factor  → inv_freq/factor;   λ < old/high_freq_factor → unchanged;
//     otherwise (1 − s)·inv_freq/factor + s·inv_freq with s = (old/λ − low_freq_factor)/(high − low)
//   angle(t, i) = position_t · inv_freq[i] (fp32), c = cos(angle), s = sin(angle)
//   y[j]       = x[j]·c_j − x[j + D/2]·s_j          j < D/2
//   y[j + D/2] = x[j + D/2]·c_j + x[j]·s_j
// Backward is the transposed rotation: dx[j] = dy[j]·c + dy[j + D/2]·s, dx[j + D/2] = dy[j + D/2]·c − dy[j]·s.
// x, y, dy, dx: (rows, heads, D), one position per row (rows = B·T tokens); y may alias x, dx may alias dy.
// CPU and ref backends; the CUDA backend has no kernel yet (an error says so).
#pragma once
#include <cstdint>
#include <optional>
#include <vector>

#include "ops/backend.h"

namespace accent {

struct RotaryScaling {  // rope_scaling {"rope_type": "llama3", ...}
  double factor = 8.0, low_freq_factor = 1.0, high_freq_factor = 4.0;
  double original_max_position_embeddings = 8192.0;
};

// inv_freq (D/2 values) for head size D (even) and base θ, with llama3 scaling when given.
std::vector<float> rotary_inv_freq(int64_t D, double theta, const std::optional<RotaryScaling>& llama3 = std::nullopt);

// positions: rows int32 (host memory for ref/CPU); inv_freq: D/2 floats.
void rotary_forward(const OpContext& ctx, const float* x, const int32_t* positions, const float* inv_freq, float* y,
                    int64_t rows, int64_t heads, int64_t D);
void rotary_backward(const OpContext& ctx, const float* dy, const int32_t* positions, const float* inv_freq, float* dx,
                     int64_t rows, int64_t heads, int64_t D);

}  // namespace accent
