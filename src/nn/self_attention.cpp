#include "nn/self_attention.h"

#include <cmath>

#include "core/error.h"
#include "ops/tensor_ops.h"

namespace accent {

SelfAttention::SelfAttention(const std::string& name, int64_t hidden, int64_t heads, float attention_dropout)
    : query(name + ".query", hidden, hidden),
      key(name + ".key", hidden, hidden),
      value(name + ".value", hidden, hidden),
      H_(hidden),
      NH_(heads),
      D_(heads > 0 ? hidden / heads : 0) {
  ACCENT_CHECK(heads > 0 && hidden % heads == 0, name, ": hidden size (", hidden,
               ") is not a multiple of the number of attention heads (", heads, ")");
  core_ = AttentionCore(hidden, heads, attention_dropout, std::sqrt(static_cast<float>(D_)), /*causal=*/false);
}

void SelfAttention::forward(const OpContext& ctx, const float* x, const float* mask_add, float* context, int64_t B,
                            int64_t T, Rng* rng) {
  const int64_t rows = B * T, n = rows * H_;
  float* heads = core_.heads(B, T);
  float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(n);  // one projection at a time
  query.forward(ctx, x, stage, rows);
  split_heads(ctx, stage, heads, B, T, NH_, D_);
  key.forward(ctx, x, stage, rows);
  split_heads(ctx, stage, heads + n, B, T, NH_, D_);
  value.forward(ctx, x, stage, rows);
  split_heads(ctx, stage, heads + 2 * n, B, T, NH_, D_);
  core_.forward(ctx, mask_add, context, B, T, rng);
}

void SelfAttention::backward(const OpContext& ctx, const float* x, const float* dcontext, float* dx, int64_t B,
                             int64_t T, bool accumulate_dx) {
  const int64_t rows = B * T, n = rows * H_;
  const AttentionCore::HeadGradients g = core_.backward(ctx, dcontext, B, T);
  // One merged gradient at a time through the staging slot; dx == nullptr makes Linear skip its dX product.
  float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(n);
  merge_heads(ctx, g.dq, stage, B, T, NH_, D_);
  query.backward(ctx, x, stage, dx, rows, accumulate_dx);
  merge_heads(ctx, g.dk, stage, B, T, NH_, D_);
  key.backward(ctx, x, stage, dx, rows, /*accumulate_dx=*/true);
  merge_heads(ctx, g.dv, stage, B, T, NH_, D_);
  value.backward(ctx, x, stage, dx, rows, /*accumulate_dx=*/true);
}

void SelfAttention::collect(ParameterList& out) {
  query.collect(out);
  key.collect(out);
  value.collect(out);
}

}  // namespace accent
