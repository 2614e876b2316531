#include "models/modernbert_layer.h"

#include <cmath>

#include "nn/freeze.h"
#include "nn/lora.h"
#include "ops/glu.h"
#include "ops/memory.h"
#include "ops/rotary.h"
#include "ops/tensor_ops.h"

namespace accent {

ModernBertLayer::ModernBertLayer(const std::string& prefix, const ModernBertDims& d, int64_t layer_index)
    : Wqkv(prefix + ".attn.Wqkv", d.H, 3 * d.H, d.attention_bias),
      attn_Wo(prefix + ".attn.Wo", d.H, d.H, d.attention_bias),
      mlp_norm(prefix + ".mlp_norm", d.H, d.eps, d.norm_bias),
      Wi(prefix + ".mlp.Wi", d.H, 2 * d.I, d.mlp_bias),
      mlp_Wo(prefix + ".mlp.Wo", d.I, d.H, d.mlp_bias),
      H_(d.H),
      NH_(d.NH),
      D_(d.D),
      I_(d.I),
      local_(layer_index % d.global_every != 0),
      act_(d.act),
      inv_freq_(rotary_inv_freq(d.D, d.local_rope[static_cast<size_t>(layer_index)] ? d.local_theta : d.global_theta)),
      attention_(d.H, d.NH, d.attention_dropout, std::sqrt(static_cast<float>(d.D)), /*causal=*/false,
                 local_ ? d.local_half_window : -1),
      out_drop_(d.attention_dropout),
      mlp_drop_(d.mlp_dropout) {
  if (layer_index > 0) attn_norm.emplace(prefix + ".attn_norm", d.H, d.eps, d.norm_bias);
}

void ModernBertLayer::forward(const OpContext& ctx, const float* x, const int32_t* head_positions,
                              const float* mask_add, float* y, int64_t B, int64_t T, Rng* rng,
                              const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_, block = B * NH_ * T * D_;
  const float* a = x;
  if (attn_norm) {
    attn_norm->forward(ctx, x, a_.f32(n), rows);
    a = a_.f32(n);
  }
  float* qkv = qkv_.f32(3 * n);
  Wqkv.forward(ctx, a, qkv, rows);
  float* padded = packing ? shared_scratch(SharedSlot::PaddedRows).f32(3 * B * T * H_) : nullptr;
  if (packing) unpack_rows(ctx, packing, qkv, padded, B, T, 3 * H_);
  float* heads = attention_.heads(B, T);
  split_qkv_heads(ctx, packing ? padded : qkv, heads, B, T, NH_, D_);  // → Q | K | V, each (B, NH, T, D)
  for (int which = 0; which < 2; ++which)  // Q and K: one rotation per (b, h, t) row of D values
    rotary_forward(ctx, heads + which * block, head_positions, inv_freq_.data(), heads + which * block, B * NH_ * T,
                   1, D_);
  float* context = ctx_.f32(n);
  attention_.forward(ctx, mask_add, packing ? padded : context, B, T, rng);
  if (packing) pack_rows(ctx, packing, padded, context, B, T, H_);

  float* h1 = h1_.f32(n);
  float* branch = shared_scratch(SharedSlot::DecoderLayerBranch).f32(n);
  attn_Wo.forward(ctx, context, branch, rows);
  out_drop_.forward(ctx, branch, branch, n, rng, packing);
  add(ctx, x, branch, h1, n);

  float* m = m_.f32(n);
  float* wi = wi_.f32(2 * rows * I_);
  float* g = glu_.f32(rows * I_);
  mlp_norm.forward(ctx, h1, m, rows);
  Wi.forward(ctx, m, wi, rows);
  glu_forward(ctx, act_, wi, g, rows, I_);
  mlp_drop_.forward(ctx, g, g, rows * I_, rng, packing);
  mlp_Wo.forward(ctx, g, branch, rows);
  add(ctx, h1, branch, y, n);
}

void ModernBertLayer::backward(const OpContext& ctx, const float* x, const int32_t* head_positions, const float* dy,
                               float* dx, int64_t B, int64_t T, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_, block = B * NH_ * T * D_, padded_n = B * T * H_;
  const float* a = attn_norm ? a_.f32(n) : x;
  float* qkv = qkv_.f32(3 * n);
  float* context = ctx_.f32(n);
  float* h1 = h1_.f32(n);
  float* m = m_.f32(n);
  float* wi = wi_.f32(2 * rows * I_);
  float* g = glu_.f32(rows * I_);
  float* grad = shared_scratch(SharedSlot::DecoderLayerGrad).f32(std::max(n, 2 * rows * I_));
  float* branch = shared_scratch(SharedSlot::DecoderLayerBranch).f32(n);

  // MLP branch: Y = X' + Wo(Dropout(glu(Wi(norm(X'))))); dX' (in dx until the attention branch is added).
  mlp_Wo.backward(ctx, g, dy, /*dx=*/g, rows);  // d(dropped glu) over g
  mlp_drop_.backward(ctx, g, g, rows * I_);
  glu_backward(ctx, act_, wi, g, grad, rows, I_);  // d(Wi output)
  Wi.backward(ctx, m, grad, /*dx=*/branch, rows);
  mlp_norm.backward(ctx, h1, branch, dx, rows);
  add_inplace(ctx, dy, dx, n);

  // Attention branch: X' = X + Dropout(Wo(ctx)).
  out_drop_.backward(ctx, dx, branch, n);
  attn_Wo.backward(ctx, context, branch, /*dx=*/m, rows);  // d(context) over m (not needed any more)
  float* padded = packing ? shared_scratch(SharedSlot::PaddedRows).f32(3 * padded_n) : nullptr;
  if (packing) unpack_rows(ctx, packing, m, padded, B, T, H_);
  const AttentionCore::HeadGradients dh = attention_.backward(ctx, packing ? padded : m, B, T);
  // d(q|k|v) heads: dK and dV sit over kh and vh; dQ (shared scratch) goes into the Q slot. RoPE's transpose on both.
  float* heads = attention_.heads(B, T);
  copy_bytes(ctx, heads, dh.dq, static_cast<size_t>(block) * sizeof(float));
  for (int which = 0; which < 2; ++which)
    rotary_backward(ctx, heads + which * block, head_positions, inv_freq_.data(), heads + which * block,
                    B * NH_ * T, 1, D_);
  merge_qkv_heads(ctx, heads, packing ? padded : qkv, B, T, NH_, D_);
  if (packing) pack_rows(ctx, packing, padded, qkv, B, T, 3 * H_);
  if (attn_norm) {
    Wqkv.backward(ctx, a, qkv, /*dx=*/branch, rows);
    attn_norm->backward(ctx, x, branch, /*dx=*/branch, rows);
    add_inplace(ctx, branch, dx, n);
  } else {
    Wqkv.backward(ctx, a, qkv, dx, rows, /*accumulate_dx=*/true);  // layer 0: a = X
  }
}

void ModernBertLayer::collect(ParameterList& out) {
  if (attn_norm) attn_norm->collect(out);
  Wqkv.collect(out);
  attn_Wo.collect(out);
  mlp_norm.collect(out);
  Wi.collect(out);
  mlp_Wo.collect(out);
}

bool ModernBertLayer::trainable() {
  ParameterList params;
  collect(params);
  if (any_trainable(params)) return true;
  for (Linear* l : {&Wqkv, &attn_Wo, &Wi, &mlp_Wo})
    if (has_trainable_adapter(l->lora)) return true;
  return false;
}

}  // namespace accent
