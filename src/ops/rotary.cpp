// ops/rotary.cpp — see rotary.h.
#include "ops/rotary.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include "core/error.h"

namespace accent {
namespace {

// One row (all its heads) rotated by +angle (forward) or −angle (backward: sign = −1).
void rotate_row(const float* x, int32_t position, const float* inv_freq, float* y, int64_t heads, int64_t D,
                float sign) {
  const int64_t half = D / 2;
  float c[512], s[512];  // D ≤ 1024 (checked)
  for (int64_t i = 0; i < half; ++i) {
    const float angle = static_cast<float>(position) * inv_freq[i];
    c[i] = std::cos(angle);
    s[i] = sign * std::sin(angle);
  }
  for (int64_t h = 0; h < heads; ++h) {
    const float* xh = x + h * D;
    float* yh = y + h * D;
    for (int64_t i = 0; i < half; ++i) {
      const float a = xh[i], b = xh[i + half];
      yh[i] = a * c[i] - b * s[i];
      yh[i + half] = b * c[i] + a * s[i];
    }
  }
}

void rotate(const OpContext& ctx, const char* op, const float* x, const int32_t* positions, const float* inv_freq,
            float* y, int64_t rows, int64_t heads, int64_t D, float sign) {
  check_cpu_only_op(ctx, op, "rotary embeddings");
  ACCENT_CHECK(D % 2 == 0 && D <= 1024, op, ": head size ", D, " must be even and at most 1024");
  if (ctx.backend == Backend::Ref) {
    for (int64_t r = 0; r < rows; ++r)
      rotate_row(x + r * heads * D, positions[r], inv_freq, y + r * heads * D, heads, D, sign);
    return;
  }
  // cos/sin of every position these rows use, computed once per call (the same float values rotate_row computes:
  // a row of B·NH·T rotations repeats each position NH·B times).
  int32_t max_position = 0;
  for (int64_t r = 0; r < rows; ++r) {
    ACCENT_CHECK(positions[r] >= 0, op, ": position ", positions[r], " is negative");
    max_position = std::max(max_position, positions[r]);
  }
  const int64_t half = D / 2, count = static_cast<int64_t>(max_position) + 1;
  std::vector<float> table(static_cast<size_t>(2 * count * half));  // per position: cos[half] | sign·sin[half]
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < count; ++p)
    for (int64_t i = 0; i < half; ++i) {
      const float angle = static_cast<float>(p) * inv_freq[i];
      table[static_cast<size_t>(2 * p * half + i)] = std::cos(angle);
      table[static_cast<size_t>((2 * p + 1) * half + i)] = sign * std::sin(angle);
    }
#pragma omp parallel for schedule(static)
  for (int64_t r = 0; r < rows; ++r) {
    const float* c = table.data() + 2 * positions[r] * half;
    const float* sn = c + half;
    for (int64_t h = 0; h < heads; ++h) {
      const float* xh = x + (r * heads + h) * D;
      float* yh = y + (r * heads + h) * D;
#pragma omp simd
      for (int64_t i = 0; i < half; ++i) {
        const float a = xh[i], b = xh[i + half];
        yh[i] = a * c[i] - b * sn[i];
        yh[i + half] = b * c[i] + a * sn[i];
      }
    }
  }
}

}  // namespace

std::vector<float> rotary_inv_freq(int64_t D, double theta, const std::optional<RotaryScaling>& llama3) {
  ACCENT_CHECK(D > 0 && D % 2 == 0, "rotary embeddings: head size ", D, " must be positive and even");
  ACCENT_CHECK(theta > 0, "rotary embeddings: rope_theta ", theta, " must be positive");
  std::vector<float> inv(static_cast<size_t>(D / 2));
  // transformers: 1.0 / (base ** (torch.arange(0, dim, 2).float() / dim)), in float32.
  for (int64_t i = 0; i < D / 2; ++i)
    inv[static_cast<size_t>(i)] =
        1.0f / std::pow(static_cast<float>(theta), static_cast<float>(2 * i) / static_cast<float>(D));
  if (!llama3) return inv;
  const RotaryScaling& r = *llama3;
  ACCENT_CHECK(r.factor > 0 && r.high_freq_factor > r.low_freq_factor && r.original_max_position_embeddings > 0,
               "rope_scaling llama3: needs factor > 0, high_freq_factor > low_freq_factor and "
               "original_max_position_embeddings > 0");
  // _compute_llama3_parameters, in float32 tensor arithmetic.
  const float factor = static_cast<float>(r.factor), low = static_cast<float>(r.low_freq_factor),
              high = static_cast<float>(r.high_freq_factor), old = static_cast<float>(r.original_max_position_embeddings);
  const float low_wavelen = static_cast<float>(r.original_max_position_embeddings / r.low_freq_factor),  // Python floats
      high_wavelen = static_cast<float>(r.original_max_position_embeddings / r.high_freq_factor);
  // (torch evaluates number / tensor as reciprocal(tensor) · number.)
  for (float& f : inv) {
    const float wavelen = (1.0f / f) * static_cast<float>(2 * M_PI);
    const float scaled = wavelen > low_wavelen ? f / factor : f;
    const float smooth = ((1.0f / wavelen) * old - low) / (high - low);
    const bool mid = !(wavelen < high_wavelen) && !(wavelen > low_wavelen);
    f = mid ? (1 - smooth) * scaled / factor + smooth * scaled : scaled;
  }
  return inv;
}

void rotary_forward(const OpContext& ctx, const float* x, const int32_t* positions, const float* inv_freq, float* y,
                    int64_t rows, int64_t heads, int64_t D) {
  rotate(ctx, "rotary_forward", x, positions, inv_freq, y, rows, heads, D, 1.0f);
}

void rotary_backward(const OpContext& ctx, const float* dy, const int32_t* positions, const float* inv_freq, float* dx,
                     int64_t rows, int64_t heads, int64_t D) {
  rotate(ctx, "rotary_backward", dy, positions, inv_freq, dx, rows, heads, D, -1.0f);
}

}  // namespace accent
