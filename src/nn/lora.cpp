#include "nn/lora.h"

#include <cmath>
#include <utility>

#include "core/error.h"
#include "nn/parameter_init.h"
#include "ops/matmul.h"
#include "ops/precision.h"
#include "ops/tensor_ops.h"

namespace accent {

float LoraHyper::scale() const {
  return static_cast<float>(use_rslora ? alpha / std::sqrt(static_cast<double>(r)) : alpha / static_cast<double>(r));
}

LoraAdapter::LoraAdapter(const std::string& module_name, int64_t in_features, int64_t out_features,
                         const LoraHyper& hyper)
    : module_(module_name), in_(in_features), out_(out_features), hyper_(hyper), dropout_(static_cast<float>(hyper.dropout)) {
  ACCENT_CHECK(hyper.r > 0, "LoRA rank r must be positive, got ", hyper.r, " (", module_name, ")");
  ACCENT_CHECK(hyper.alpha > 0, "lora_alpha must be positive, got ", hyper.alpha, " (", module_name, ")");
  ACCENT_CHECK(hyper.dropout >= 0 && hyper.dropout < 1, "lora_dropout must be in [0, 1), got ", hyper.dropout);
  A = make_parameter(module_name + ".lora_A.weight", {hyper.r, in_features}, /*decay=*/true);
  B = make_parameter(module_name + ".lora_B.weight", {out_features, hyper.r}, /*decay=*/true);
  scale_ = hyper.scale();
}

void LoraAdapter::init(const Rng& rng) {
  // torch.nn.init.kaiming_uniform_(A, a=√5): gain = √(2/(1+5)), bound = gain·√(3/fan_in) = 1/√in.
  const float bound = 1.0f / std::sqrt(static_cast<float>(in_));
  float* a = A.value.f32();
  const uint64_t seed = rng.seed(), base = rng.counter();
  for (int64_t i = 0, n = A.value.numel(); i < n; ++i) {
    Rng r(seed, base + static_cast<uint64_t>(i));
    a[i] = (2.0f * r.uniform() - 1.0f) * bound;
  }
  B.value.zero();
}

namespace {

// The adapter's products run in fp32 even under bf16 mixed precision: each has r (8–64) as its inner or output
// size, so they are bound by reading the (rows, in) / (rows, out) activations, and bf16 would only add a
// conversion pass of those activations per product (the base Linear already converts x for its own product).
// fp32 is also the more accurate of the two.
OpContext adapter_context(const OpContext& ctx) {
  OpContext c = ctx;
  c.precision = Precision::F32;
  return c;
}

}  // namespace

void LoraAdapter::forward_add(const OpContext& base_ctx, const float* x, float* y, int64_t rows) {
  const OpContext ctx = adapter_context(base_ctx);
  const int64_t r = hyper_.r;
  const float* xd = x;
  dropout_active_ = rng_ != nullptr && hyper_.dropout > 0;
  if (dropout_active_) {
    float* d = dropped_.f32(rows * in_);
    dropout_.forward(ctx, x, d, rows * in_, rng_);
    xd = d;
  }
  float* h = h_.f32(rows * r);
  gemm(ctx, GemmShape{1, rows, r, in_, false, true}, xd, std::as_const(A.value).f32(), nullptr, h, false);  // x'·Aᵀ
  scale_inplace(ctx, scale_, h, rows * r);
  gemm(ctx, GemmShape{1, rows, out_, r, false, true}, h, std::as_const(B.value).f32(), nullptr, y, true);  // y += h·Bᵀ
}

void LoraAdapter::backward_params(const OpContext& base_ctx, const float* x, const float* dy, int64_t rows) {
  const OpContext ctx = adapter_context(base_ctx);
  const int64_t r = hyper_.r;
  const float* h = h_.f32(rows * r);
  const float* xd = dropout_active_ ? dropped_.f32(rows * in_) : x;
  float* u = u_.f32(rows * r);
  if (B.trainable) gemm(ctx, GemmShape{1, out_, r, rows, true, false}, dy, h, nullptr, B.grad.f32(), true);
  gemm(ctx, GemmShape{1, rows, r, out_, false, false}, dy, std::as_const(B.value).f32(), nullptr, u, false);  // dy·B
  scale_inplace(ctx, scale_, u, rows * r);
  if (A.trainable) gemm(ctx, GemmShape{1, r, in_, rows, true, false}, u, xd, nullptr, A.grad.f32(), true);
}

void LoraAdapter::backward_input_add(const OpContext& base_ctx, float* dx, int64_t rows) {
  const OpContext ctx = adapter_context(base_ctx);
  const int64_t r = hyper_.r;
  const float* u = u_.f32(rows * r);
  if (!dropout_active_) {
    gemm(ctx, GemmShape{1, rows, in_, r, false, false}, u, std::as_const(A.value).f32(), nullptr, dx, true);  // dx += u·A
    return;
  }
  float* t = tmp_.f32(rows * in_);
  gemm(ctx, GemmShape{1, rows, in_, r, false, false}, u, std::as_const(A.value).f32(), nullptr, t, false);
  dropout_.backward(ctx, t, t, rows * in_);
  add_inplace(ctx, t, dx, rows * in_);
}

void LoraAdapter::merge_into(float* weight, bool fan_in_fan_out) const {
  // W[o, i] += scale · Σ_k B[o, k]·A[k, i], accumulated in double (merging is done once).
  const int64_t r = hyper_.r;
  const float* a = A.value.f32();
  const float* b = B.value.f32();
  for (int64_t o = 0; o < out_; ++o)
    for (int64_t i = 0; i < in_; ++i) {
      double s = 0;
      for (int64_t k = 0; k < r; ++k) s += static_cast<double>(b[o * r + k]) * a[k * in_ + i];
      weight[fan_in_fan_out ? i * out_ + o : o * in_ + i] += static_cast<float>(scale_ * s);
    }
}

void LoraAdapter::collect(ParameterList& out) {
  out.push_back(&A);
  out.push_back(&B);
}

bool has_trainable_adapter(const LoraAdapter* adapter) {
  return adapter && (adapter->A.trainable || adapter->B.trainable);
}

}  // namespace accent
