#include "train/grad_clip.h"

#include <cmath>

namespace accent {

double grad_global_norm(const ParameterList& params) {
  // torch: norms = [‖g‖ per tensor] (float results), total = ‖stack(norms)‖. Sums are accumulated in double here.
  double total_sq = 0.0;
  for (const Parameter* p : params) {
    if (!p->trainable) continue;
    const float* g = p->grad.f32();
    double sq = 0.0;
    for (int64_t i = 0, n = p->grad.numel(); i < n; ++i) sq += static_cast<double>(g[i]) * g[i];
    const float norm = static_cast<float>(std::sqrt(sq));
    total_sq += static_cast<double>(norm) * norm;
  }
  return static_cast<float>(std::sqrt(total_sq));
}

double clip_grad_norm(const ParameterList& params, double max_norm) {
  const double total = grad_global_norm(params);
  if (max_norm <= 0.0 || !std::isfinite(total)) return total;
  const float coef = static_cast<float>(max_norm) / (static_cast<float>(total) + 1e-6f);
  if (coef < 1.0f) {
    for (Parameter* p : params) {
      if (!p->trainable) continue;
      float* g = p->grad.f32();
      for (int64_t i = 0, n = p->grad.numel(); i < n; ++i) g[i] *= coef;
    }
  }
  return total;
}

}  // namespace accent
