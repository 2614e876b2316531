// models/per_token_head.cpp — see per_token_head.h.
#include "models/per_token_head.h"

namespace accent {

PerTokenHead::PerTokenHead(const std::string& name, int64_t H, int64_t C, float dropout)
    : out(name, H, C), H_(H), dropout_(dropout) {}

void PerTokenHead::forward(const OpContext& ctx, const float* hidden, float* logits, int64_t B, int64_t T, Rng* rng) {
  const int64_t rows = B * T;
  input_ = hidden;
  dropped_input_ = rng && dropout_.p() > 0.0f;
  if (dropped_input_) {
    float* dropped = dropped_.f32(rows * H_);
    dropout_.forward(ctx, hidden, dropped, rows * H_, rng);
    input_ = dropped;
  }
  out.forward(ctx, input_, logits, rows);
}

void PerTokenHead::backward(const OpContext& ctx, const float* dlogits, float* dhidden, int64_t B, int64_t T) {
  const int64_t rows = B * T;
  out.backward(ctx, input_, dlogits, dhidden, rows);
  if (dropped_input_) dropout_.backward(ctx, dhidden, dhidden, rows * H_);
}

}  // namespace accent
