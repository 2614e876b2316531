#include "nn/gated_feed_forward.h"

#include "ops/tensor_ops.h"

namespace accent {

GatedFeedForward::GatedFeedForward(const std::string& name, int64_t hidden, int64_t intermediate, bool bias,
                                   Activation act)
    : gate_proj(name + ".gate_proj", hidden, intermediate, bias),
      up_proj(name + ".up_proj", hidden, intermediate, bias),
      down_proj(name + ".down_proj", intermediate, hidden, bias),
      I_(intermediate),
      act_(act) {}

void GatedFeedForward::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) {
  const int64_t n = rows * I_;
  float* g = gate_.f32(n);
  float* u = up_.f32(n);
  float* p = product_.f32(n);
  gate_proj.forward(ctx, x, g, rows);
  up_proj.forward(ctx, x, u, rows);
  activation_forward(ctx, act_, g, p, n);
  multiply_inplace(ctx, u, p, n);  // p = act(g) ⊙ u
  down_proj.forward(ctx, p, y, rows);
}

void GatedFeedForward::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows) {
  const int64_t n = rows * I_;
  float* g = gate_.f32(n);
  float* u = up_.f32(n);
  float* p = product_.f32(n);
  float* dp = shared_scratch(SharedSlot::GatedFeedForwardGrad).f32(n);
  down_proj.backward(ctx, p, dy, dp, rows);
  float* a = p;  // act(g), over p (read by down_proj's weight gradient above, not needed any more)
  activation_forward(ctx, act_, g, a, n);
  multiply_inplace(ctx, dp, u, n);  // u ← dp ⊙ u = d(act(g))
  multiply_inplace(ctx, dp, a, n);  // a ← dp ⊙ act(g) = du
  activation_backward(ctx, act_, g, u, /*dx=*/dp, n);  // dg
  up_proj.backward(ctx, x, a, dx, rows);
  gate_proj.backward(ctx, x, dp, dx, rows, /*accumulate_dx=*/true);
}

void GatedFeedForward::collect(ParameterList& out) {
  gate_proj.collect(out);
  up_proj.collect(out);
  down_proj.collect(out);
}

}  // namespace accent
