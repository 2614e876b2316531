#include "models/cls_token_head.h"

#include "ops/tensor_ops.h"

namespace accent {

ClsTokenHead::ClsTokenHead(const std::string& dense_name, const std::string& out_name, int64_t H, int64_t C,
                           Activation act, float dropout, bool dropout_first, float dropout_after)
    : dense(dense_name, H, H),
      out(out_name, H, C),
      H_(H),
      act_(act),
      dropout_first_(dropout_first),
      dropout_in_(dropout_first ? dropout : 0.0f),
      dropout_out_(dropout_after < 0.0f ? dropout : dropout_after) {}

void ClsTokenHead::forward(const OpContext& ctx, const float* hidden, float* logits, int64_t B, int64_t T, Rng* rng) {
  float* first = first_.f32(B * H_);
  float* pre = pre_.f32(B * H_);
  float* a = act_out_.f32(B * H_);
  gather_rows(ctx, hidden, first, B, T, H_, /*index=*/0);
  dropout_in_.forward(ctx, first, first, B * H_, rng);
  dense.forward(ctx, first, pre, B);
  activation_forward(ctx, act_, pre, a, B * H_);
  dropout_out_.forward(ctx, a, a, B * H_, rng);
  out.forward(ctx, a, logits, B);
}

void ClsTokenHead::backward(const OpContext& ctx, const float* dlogits, float* dhidden, int64_t B, int64_t T) {
  float* first = first_.f32(B * H_);
  float* pre = pre_.f32(B * H_);
  float* a = act_out_.f32(B * H_);
  out.backward(ctx, a, dlogits, /*dx=*/a, B);
  dropout_out_.backward(ctx, a, a, B * H_);
  activation_backward(ctx, act_, pre, a, /*dx=*/pre, B * H_);
  dense.backward(ctx, first, pre, /*dx=*/first, B);
  dropout_in_.backward(ctx, first, first, B * H_);
  scatter_rows(ctx, first, dhidden, B, T, H_, /*index=*/0);
}

void ClsTokenHead::collect(ParameterList& out_params) {
  dense.collect(out_params);
  out.collect(out_params);
}

}  // namespace accent
