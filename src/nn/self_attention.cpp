#include "nn/self_attention.h"

#include <cmath>

#include "core/error.h"
#include "nn/int8_weight.h"
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

void SelfAttention::to_heads(const OpContext& ctx, const float* projected, float* head_block, int64_t B, int64_t T,
                             const TokenPacking* packing) {
  if (!packing) return split_heads(ctx, projected, head_block, B, T, NH_, D_);
  float* padded = shared_scratch(SharedSlot::PaddedRows).f32(B * T * H_);
  unpack_rows(ctx, packing, projected, padded, B, T, H_);
  split_heads(ctx, padded, head_block, B, T, NH_, D_);
}

float* SelfAttention::from_heads(const OpContext& ctx, const float* head_block, int64_t B, int64_t T,
                                 const TokenPacking* packing) {
  float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(active_rows(packing, B, T) * H_);
  if (!packing) {
    merge_heads(ctx, head_block, stage, B, T, NH_, D_);
    return stage;
  }
  float* padded = shared_scratch(SharedSlot::PaddedRows).f32(B * T * H_);
  merge_heads(ctx, head_block, padded, B, T, NH_, D_);
  pack_rows(ctx, packing, padded, stage, B, T, H_);
  return stage;
}

void SelfAttention::project(const OpContext& ctx, const Linear& proj, const float* x, const QuantizedRows* xq,
                            float* out, int64_t rows) {
  if (xq) return proj.forward_quantized(ctx, *xq, out, rows);
  proj.forward(ctx, x, out, rows);
}

void SelfAttention::forward(const OpContext& ctx, const float* x, const float* mask_add, float* context, int64_t B,
                            int64_t T, Rng* rng, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = B * T * H_;
  float* heads = core_.heads(B, T);
  const std::vector<const Linear*> qkv{&query, &key, &value};
  if (FusedProjection::available(ctx, qkv)) {
    // Inference: the three projections as one product (nn/fused_projection.h), then one split into the heads.
    float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(rows * 3 * H_);
    qkv_.forward(ctx, qkv, x, stage, rows);
    if (packing) {
      float* padded = shared_scratch(SharedSlot::PaddedRows).f32(B * T * 3 * H_);
      unpack_rows(ctx, packing, stage, padded, B, T, 3 * H_);
      stage = padded;
    }
    split_qkv_heads(ctx, stage, heads, B, T, NH_, D_);
  } else {
    float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(rows * H_);  // one projection at a time
    query.forward(ctx, x, stage, rows);
    to_heads(ctx, stage, heads, B, T, packing);
    key.forward(ctx, x, stage, rows);
    to_heads(ctx, stage, heads + n, B, T, packing);
    value.forward(ctx, x, stage, rows);
    to_heads(ctx, stage, heads + 2 * n, B, T, packing);
  }
  if (!packing) return core_.forward(ctx, mask_add, context, B, T, rng);
  float* padded = shared_scratch(SharedSlot::PaddedRows).f32(n);
  core_.forward(ctx, mask_add, padded, B, T, rng);
  pack_rows(ctx, packing, padded, context, B, T, H_);
}

void SelfAttention::backward(const OpContext& ctx, const float* x, const float* dcontext, float* dx, int64_t B,
                             int64_t T, bool accumulate_dx, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T);
  const float* dctx = dcontext;
  if (packing) {
    float* padded = shared_scratch(SharedSlot::PaddedRows).f32(B * T * H_);
    unpack_rows(ctx, packing, dcontext, padded, B, T, H_);
    dctx = padded;
  }
  const AttentionCore::HeadGradients g = core_.backward(ctx, dctx, B, T);
  // One merged gradient at a time through the staging slot; dx == nullptr makes Linear skip its dX product.
  query.backward(ctx, x, from_heads(ctx, g.dq, B, T, packing), dx, rows, accumulate_dx);
  key.backward(ctx, x, from_heads(ctx, g.dk, B, T, packing), dx, rows, /*accumulate_dx=*/true);
  value.backward(ctx, x, from_heads(ctx, g.dv, B, T, packing), dx, rows, /*accumulate_dx=*/true);
}

void SelfAttention::forward_head_rows(const OpContext& ctx, const float* x, const float* x_head, const float* mask_add,
                                      const HeadRows& head_rows, float* context, int64_t B, int64_t T, Rng* rng,
                                      const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = B * T * H_;
  float* heads = core_.heads(B, T);
  float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(rows * H_);
  query.forward(ctx, x_head, stage, B);
  split_heads(ctx, stage, heads, B, 1, NH_, D_);  // (B, 1, H) → (B, NH, 1, D)
  QuantizedRows xq;  // as in forward: x quantized once for key and value
  const bool quantize_once = key.takes_quantized_input(ctx) && value.takes_quantized_input(ctx);
  if (quantize_once) xq = quantize_ahead(x, rows, H_, SharedSlot::Int8Input);
  project(ctx, key, x, quantize_once ? &xq : nullptr, stage, rows);
  to_heads(ctx, stage, heads + n, B, T, packing);
  project(ctx, value, x, quantize_once ? &xq : nullptr, stage, rows);
  to_heads(ctx, stage, heads + 2 * n, B, T, packing);
  core_.forward_rows(ctx, mask_add, head_rows, context, B, T, rng);
}

void SelfAttention::backward_head_rows(const OpContext& ctx, const float* x, const float* x_head, const float* dcontext,
                                       float* dx, float* dx_head, int64_t B, int64_t T, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T);
  const AttentionCore::HeadGradients g = core_.backward_rows(ctx, dcontext, B, T);
  key.backward(ctx, x, from_heads(ctx, g.dk, B, T, packing), dx, rows, /*accumulate_dx=*/false);
  value.backward(ctx, x, from_heads(ctx, g.dv, B, T, packing), dx, rows, /*accumulate_dx=*/true);
  float* stage = shared_scratch(SharedSlot::AttentionHeadsTemp).f32(rows * H_);
  merge_heads(ctx, g.dq, stage, B, 1, NH_, D_);
  query.backward(ctx, x_head, stage, dx_head, B);
}

void SelfAttention::collect(ParameterList& out) {
  query.collect(out);
  key.collect(out);
  value.collect(out);
}

}  // namespace accent
