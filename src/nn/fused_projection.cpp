#include "nn/fused_projection.h"

#include <cstring>

#include "core/dtype.h"
#include "core/error.h"
#include "nn/bf16_weight_cache.h"
#include "ops/precision.h"

namespace accent {

bool FusedProjection::available(const OpContext& ctx, const std::vector<const Linear*>& parts) {
  if (parts.empty()) return false;
  bool all_int8 = true, all_packed = true;
  for (const Linear* p : parts) {
    if (p->lora || p->in_features() != parts.front()->in_features()) return false;
    all_int8 = all_int8 && p->takes_quantized_input(ctx);
    all_packed = all_packed && p->int8_weight().empty() && forward_uses_packed_weight(ctx, p->weight.value);
  }
  return all_int8 || all_packed;
}

std::vector<std::pair<const void*, uint64_t>> FusedProjection::keys(const std::vector<const Linear*>& parts,
                                                                    Form form) const {
  std::vector<std::pair<const void*, uint64_t>> k;
  for (const Linear* p : parts) {
    const Tensor& w = form == Form::Int8 ? p->int8_weight().values() : p->weight.value;
    k.emplace_back(w.data(), w.version());
    if (p->has_bias()) k.emplace_back(p->bias.value.data(), p->bias.value.version());
  }
  return k;
}

void FusedProjection::make(const std::vector<const Linear*>& parts, Form form) const {
  const int64_t in = parts.front()->in_features();
  int64_t out = 0;
  bool any_bias = false;
  for (const Linear* p : parts) {
    out += p->out_features();
    any_bias = any_bias || p->has_bias();
  }
  bias_ = any_bias ? Tensor(DType::F32, {out}) : Tensor();
  int64_t row = 0;
  for (const Linear* p : parts) {
    if (any_bias) {
      float* b = bias_.f32() + row;
      if (p->has_bias())
        std::memcpy(b, p->bias.value.f32(), static_cast<size_t>(p->out_features()) * sizeof(float));
      else
        std::fill(b, b + p->out_features(), 0.0f);
    }
    row += p->out_features();
  }
  if (form == Form::Bf16) {
    // [W₁; W₂; W₃] (Σ out, in) in bf16, rounded as the bf16 weight cache rounds each part, then packed.
    std::vector<uint16_t> stacked(static_cast<size_t>(out * in));
    row = 0;
    for (const Linear* p : parts) {
      convert_f32_to_bf16(p->weight.value.f32(), stacked.data() + row * in, p->out_features() * in);
      row += p->out_features();
    }
    packed_ = pack_weight_bf16(stacked.data(), in, out, /*trans_b=*/true);
    int8_ = Int8Weight();
  } else {
    Tensor values(DType::I8, {out, in}), scales(DType::F32, {out});
    row = 0;
    for (const Linear* p : parts) {
      const Int8Weight& w = p->int8_weight();
      ACCENT_CHECK(w.out_major(), p->weight.name, ": a fused int8 projection stacks (out, in) weights");
      std::memcpy(static_cast<int8_t*>(values.data()) + row * in, w.values().data(),
                  static_cast<size_t>(p->out_features() * in));
      std::memcpy(scales.f32() + row, w.scales().f32(), static_cast<size_t>(p->out_features()) * sizeof(float));
      row += p->out_features();
    }
    int8_ = Int8Weight::from_tensors(std::move(values), std::move(scales), /*out_major=*/true, "fused projection");
    packed_ = PackedWeight();
  }
  form_ = form;
}

void FusedProjection::forward(const OpContext& ctx, const std::vector<const Linear*>& parts, const float* x, float* y,
                              int64_t rows) const {
  ACCENT_CHECK(available(ctx, parts), "fused projection: these layers cannot be multiplied as one here");
  const Form form = parts.front()->takes_quantized_input(ctx) ? Form::Int8 : Form::Bf16;
  auto now = keys(parts, form);
  if (form != form_ || now != keys_) {
    make(parts, form);
    keys_ = std::move(now);
  }
  const float* bias = bias_.numel() > 0 ? std::as_const(bias_).f32() : nullptr;
  if (form == Form::Bf16)
    gemm_bf16_packed(ctx, rows, x, packed_, bias, y);
  else
    int8_.forward(ctx, x, bias, y, rows);
}

void FusedProjection::clear() {
  form_ = Form::None;
  keys_.clear();
  packed_ = PackedWeight();
  int8_ = Int8Weight();
  bias_ = Tensor();
}

}  // namespace accent
