#include "models/decoder_layer.h"

#include "nn/freeze.h"
#include "nn/lora.h"
#include "ops/tensor_ops.h"

namespace accent {

namespace {

GroupedQueryAttentionDims attention_dims(const DecoderDims& d) {
  GroupedQueryAttentionDims a;
  a.hidden = d.H, a.heads = d.NH, a.kv_heads = d.NKV, a.head_dim = d.D;
  a.qkv_bias = d.qkv_bias, a.output_bias = d.output_bias;
  a.attention_dropout = d.attention_dropout;
  a.inv_freq = rotary_inv_freq(d.D, d.rope_theta, d.llama3_scaling);
  return a;
}

}  // namespace

DecoderLayer::DecoderLayer(const std::string& prefix, const DecoderDims& d)
    : self_attn(prefix + ".self_attn", attention_dims(d)),
      mlp(prefix + ".mlp", d.H, d.I, d.mlp_bias, d.act),
      input_layernorm(prefix + ".input_layernorm", d.H, d.eps),
      post_attention_layernorm(prefix + ".post_attention_layernorm", d.H, d.eps),
      H_(d.H) {}

void DecoderLayer::forward(const OpContext& ctx, const float* x, const int32_t* positions, const float* mask_add,
                           float* y, int64_t B, int64_t T, Rng* rng, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_;
  float* a = a_.f32(n);
  float* h1 = h1_.f32(n);
  float* m = m_.f32(n);
  float* branch = shared_scratch(SharedSlot::DecoderLayerBranch).f32(n);
  input_layernorm.forward(ctx, x, a, rows);
  self_attn.forward(ctx, a, positions, mask_add, branch, B, T, rng, packing);
  add(ctx, x, branch, h1, n);
  post_attention_layernorm.forward(ctx, h1, m, rows);
  mlp.forward(ctx, m, branch, rows);
  add(ctx, h1, branch, y, n);
}

void DecoderLayer::backward(const OpContext& ctx, const float* x, const int32_t* positions, const float* dy,
                            float* dx, int64_t B, int64_t T, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_;
  float* a = a_.f32(n);
  float* h1 = h1_.f32(n);
  float* m = m_.f32(n);
  float* grad = shared_scratch(SharedSlot::DecoderLayerGrad).f32(n);
  float* branch = shared_scratch(SharedSlot::DecoderLayerBranch).f32(n);
  // Y = X' + mlp(norm(X')): dX' = dY + norm'ᵀ·mlp'ᵀ·dY, kept in dx until the attention branch is added.
  mlp.backward(ctx, m, dy, grad, rows);
  post_attention_layernorm.backward(ctx, h1, grad, dx, rows);
  add_inplace(ctx, dy, dx, n);
  // X' = X + attn(norm(X)): dX = dX' + norm'ᵀ·attn'ᵀ·dX'.
  self_attn.backward(ctx, a, positions, dx, grad, B, T, packing);
  input_layernorm.backward(ctx, x, grad, branch, rows);
  add_inplace(ctx, branch, dx, n);
}

void DecoderLayer::collect(ParameterList& out) {
  self_attn.collect(out);
  mlp.collect(out);
  input_layernorm.collect(out);
  post_attention_layernorm.collect(out);
}

bool DecoderLayer::trainable() {
  ParameterList params;
  collect(params);
  if (any_trainable(params)) return true;
  for (Linear* l : {&self_attn.q_proj, &self_attn.k_proj, &self_attn.v_proj, &self_attn.o_proj, &mlp.gate_proj,
                    &mlp.up_proj, &mlp.down_proj})
    if (has_trainable_adapter(l->lora)) return true;
  return false;
}

}  // namespace accent
