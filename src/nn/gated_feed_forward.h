// nn/gated_feed_forward.h — the gated feed-forward of Qwen2/Llama (Qwen2MLP / LlamaMLP, "SwiGLU" with SiLU):
//
//   g = x·Wgᵀ (+ bg),  u = x·Wuᵀ (+ bu)            gate_proj, up_proj (I, H)
//   p = act(g) ⊙ u                                  act = hidden_act (silu)
//   y = p·Wdᵀ (+ bd)                                down_proj (H, I)
// Backward: dp = dy·Wd; du = dp ⊙ act(g); dg = dp ⊙ u ⊙ act'(g); dx = dg·Wg + du·Wu.
// Memory: g, u and p (rows, I) per instance; act(g) is recomputed in backward over p's buffer.
#pragma once
#include <string>

#include "nn/linear.h"
#include "nn/scratch.h"
#include "ops/activation.h"

namespace accent {

class GatedFeedForward {
 public:
  GatedFeedForward() = default;
  // Parameters "<name>.{gate_proj, up_proj, down_proj}.*".
  GatedFeedForward(const std::string& name, int64_t hidden, int64_t intermediate, bool bias, Activation act);

  Linear gate_proj, up_proj, down_proj;

  // x (rows, H) → y (rows, H)
  void forward(const OpContext& ctx, const float* x, float* y, int64_t rows);
  // dy (rows, H) → dx (rows, H) overwrite (must not alias x or dy); parameter gradients accumulate.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows);
  void collect(ParameterList& out);

 private:
  int64_t I_ = 0;
  Activation act_ = Activation::Silu;
  ScratchBuffer gate_{SharedSlot::GatedFeedForwardGate};        // (rows, I) g
  ScratchBuffer up_{SharedSlot::GatedFeedForwardUp};            // (rows, I) u; reused for d(act(g))
  ScratchBuffer product_{SharedSlot::GatedFeedForwardProduct};  // (rows, I) p; act(g), then du in backward
};

}  // namespace accent
