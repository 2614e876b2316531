#include "models/gpt2_conv1d.h"

#include <utility>

#include "core/error.h"
#include "nn/lora.h"
#include "nn/parameter_init.h"
#include "ops/matmul.h"
#include "ops/precision.h"

namespace accent {

Conv1D::Conv1D(const std::string& name, int64_t in_features, int64_t out_features)
    : in_(in_features), out_(out_features) {
  weight = make_parameter(name + ".weight", {in_features, out_features}, /*decay=*/true);
  bias = make_parameter(name + ".bias", {out_features}, /*decay=*/false);
}

void Conv1D::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) {
  // (rows, in) · (in, out) + b. The weight is read through const (std::as_const): a non-const access would stamp a
  // new version and invalidate the bf16 copy.
  const GemmShape shape{1, rows, out_, in_, false, false};
  const Tensor& w = std::as_const(weight.value);
  const float* b = std::as_const(bias.value).f32();
  if (!int8_.empty())
    int8_.forward(ctx, x, b, y, rows);
  else if (forward_uses_packed_weight(ctx, w))
    gemm_bf16_packed(ctx, rows, x, weight_bf16_.packed(w, /*trans_b=*/false), b, y);
  else if (ctx.precision == Precision::BF16)
    gemm_bf16_weights(ctx, shape, x, weight_bf16_.get(ctx, w), b, y, false);
  else
    gemm(ctx, shape, x, w.f32(), b, y, false);
  if (lora) lora->forward_add(ctx, x, y, rows);
}

void Conv1D::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows) {
  ACCENT_CHECK(int8_.empty(), weight.name, ": an int8 layer is inference-only (no backward); train the fp32 model");
  if (lora) lora->backward_params(ctx, x, dy, rows);  // reads x before dx (which may alias it) is written
  // dW (in, out) += xᵀ (in, rows) · dy (rows, out); frozen weight/bias: no product
  if (weight.trainable)
    gemm(ctx, GemmShape{1, in_, out_, rows, true, false}, x, dy, nullptr, weight.grad.f32(), true);
  if (bias.trainable) column_sum_accumulate(ctx, dy, bias.grad.f32(), rows, out_);
  if (!dx) return;
  // dx (rows, in) = dy (rows, out) · Wᵀ, W stored (in, out) = (N, K) for trans_b
  const GemmShape shape{1, rows, in_, out_, false, true};
  const Tensor& w = std::as_const(weight.value);
  if (ctx.precision == Precision::BF16)
    gemm_bf16_weights(ctx, shape, dy, weight_bf16_.get(ctx, w), nullptr, dx, false);
  else
    gemm(ctx, shape, dy, w.f32(), nullptr, dx, false);
  if (lora) lora->backward_input_add(ctx, dx, rows);
}

void Conv1D::collect(ParameterList& out) {
  weight.bf16_cache.cache = &weight_bf16_;
  out.push_back(&weight);
  out.push_back(&bias);
}

}  // namespace accent
