#include "nn/parameter_init.h"

#include <algorithm>

namespace accent {

Parameter make_parameter(const std::string& name, Shape shape, bool decay) {
  Parameter p;
  p.name = name;
  p.value = Tensor(DType::F32, shape);
  p.grad = Tensor(DType::F32, std::move(shape));
  p.decay = decay;
  return p;
}

void init_normal(Parameter& p, float stddev, const Rng& rng) {
  float* v = p.value.f32();
  const int64_t n = p.value.numel();
  const uint64_t seed = rng.seed(), base = rng.counter();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    Rng r(seed, base + 2 * static_cast<uint64_t>(i));
    v[i] = stddev * r.normal();
  }
}

void init_truncated_normal(Parameter& p, float stddev, float cutoff, const Rng& rng) {
  float* v = p.value.f32();
  const int64_t n = p.value.numel();
  const uint64_t seed = rng.seed(), base = rng.counter();
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    // Element i owns counters [base + 64·i, base + 64·(i + 1)): 32 draws of two uniforms each; inside ±cutoff·σ
    // with probability ≥ 0.68 per draw for cutoff ≥ 1, so running out (then 0) has probability < 1e-15.
    Rng r(seed, base + 64 * static_cast<uint64_t>(i));
    float x = 0.0f;
    for (int k = 0; k < 32; ++k) {
      const float z = r.normal();
      if (z >= -cutoff && z <= cutoff) {
        x = z;
        break;
      }
    }
    v[i] = stddev * x;
  }
}

void init_constant(Parameter& p, float value) {
  float* v = p.value.f32();
  std::fill(v, v + p.value.numel(), value);
}

void zero_row(Parameter& p, int64_t row) {
  const int64_t C = p.value.dim(1);
  ACCENT_CHECK(row >= 0 && row < p.value.dim(0), p.name, ": row ", row, " out of range ", shape_str(p.value.shape()));
  std::fill(p.value.f32() + row * C, p.value.f32() + (row + 1) * C, 0.0f);
}

}  // namespace accent
