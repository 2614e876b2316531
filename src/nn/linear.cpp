#include "nn/linear.h"

#include <utility>

#include "core/error.h"
#include "nn/lora.h"
#include "nn/parameter_init.h"
#include "ops/matmul.h"
#include "core/dtype.h"
#include "ops/precision.h"

namespace accent {

Linear::Linear(const std::string& name, int64_t in_features, int64_t out_features, bool bias)
    : in_(in_features), out_(out_features), has_bias_(bias) {
  weight = make_parameter(name + ".weight", {out_features, in_features}, /*decay=*/true);
  if (bias) this->bias = make_parameter(name + ".bias", {out_features}, /*decay=*/false);
}

void Linear::hold_weight_in_bf16() {
  if (weight_in_bf16()) return;
  ACCENT_CHECK(!weight.trainable, weight.name, ": only a frozen weight can be held in bf16");
  ACCENT_CHECK(weight.value.on_host(), weight.name, ": a weight is held in bf16 in host memory only");
  Tensor bf16(DType::BF16, weight.value.shape());
  convert_f32_to_bf16(std::as_const(weight.value).f32(), bf16.data_as<uint16_t>(), bf16.numel());  // as the cache
  weight.value = bf16;
  weight_bf16_.clear();
}

void Linear::restore_fp32_weight() {
  if (!weight_in_bf16()) return;
  Tensor f32(DType::F32, weight.value.shape());
  const uint16_t* bits = std::as_const(weight.value).data_as<uint16_t>();
  float* out = f32.f32();
  for (int64_t i = 0, n = f32.numel(); i < n; ++i) out[i] = bf16_to_f32(bits[i]);
  weight.value = f32;
}

void Linear::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) const {
  if (!int8_.empty()) {
    int8_.forward(ctx, x, has_bias_ ? bias.value.f32() : nullptr, y, rows);
  } else if (forward_uses_packed_weight(ctx, weight.value)) {
    gemm_bf16_packed(ctx, rows, x, weight_bf16_.packed(std::as_const(weight.value), /*trans_b=*/true),
                     has_bias_ ? bias.value.f32() : nullptr, y);
  } else if (ctx.precision == Precision::BF16) {
    GemmShape s;
    s.M = rows, s.N = out_, s.K = in_, s.trans_b = true;  // y = x (rows, in) · Wᵀ, W (out, in) = (N, K)
    gemm_bf16_weights(ctx, s, x, weight_bf16_.get(ctx, weight.value), has_bias_ ? bias.value.f32() : nullptr, y, false);
  } else {
    ACCENT_CHECK(!weight_in_bf16(), weight.name, ": held in bf16 (a frozen LoRA base); fp32 products need "
                 "restore_fp32_weight() first");
    linear_forward(ctx, x, weight.value.f32(), has_bias_ ? bias.value.f32() : nullptr, y, rows, in_, out_);
  }
  if (lora) lora->forward_add(ctx, x, y, rows);
}

void Linear::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows,
                      bool accumulate_dx) {
  ACCENT_CHECK(int8_.empty(), weight.name, ": an int8 layer is inference-only (no backward); train the fp32 model");
  if (lora) lora->backward_params(ctx, x, dy, rows);  // reads x before dx (which may alias it) is written
  float* dbias = has_bias_ && bias.trainable ? bias.grad.f32() : nullptr;
  if (weight.trainable) {
    linear_backward_weight(ctx, x, dy, weight.grad.f32(), dbias, rows, in_, out_);
  } else if (dbias) {
    column_sum_accumulate(ctx, dy, dbias, rows, out_);  // frozen weight: no dW product
  }
  if (!dx) return;
  GemmShape s;
  s.M = rows, s.N = in_, s.K = out_;  // dx = dy (rows, out) · W (out, in)
  // Reads of the weight go through const (std::as_const): a non-const access would stamp a new version and
  // needlessly invalidate the bf16 copy.
  const Tensor& w = std::as_const(weight.value);
  if (ctx.precision == Precision::BF16) {
    gemm_bf16_weights(ctx, s, dy, weight_bf16_.get(ctx, w), nullptr, dx, accumulate_dx);
  } else {
    ACCENT_CHECK(!weight_in_bf16(), weight.name, ": held in bf16 (a frozen LoRA base); fp32 products need "
                 "restore_fp32_weight() first");
    gemm(ctx, s, dy, w.f32(), nullptr, dx, accumulate_dx);
  }
  if (lora) lora->backward_input_add(ctx, dx, rows);
}

void Linear::collect(ParameterList& out) {
  weight.bf16_cache.cache = &weight_bf16_;
  out.push_back(&weight);
  if (has_bias_) out.push_back(&bias);
}

}  // namespace accent
