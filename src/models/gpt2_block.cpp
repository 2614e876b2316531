#include "models/gpt2_block.h"

#include <algorithm>
#include <cmath>

#include "nn/freeze.h"
#include "nn/lora.h"
#include "ops/attention_softmax.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/memory.h"
#include "ops/tensor_ops.h"

namespace accent {

Gpt2Block::Gpt2Block(const std::string& prefix, const Gpt2Dims& d, int64_t layer_index)
    : ln_1(prefix + ".ln_1", d.H, d.eps),
      c_attn(prefix + ".attn.c_attn", d.H, 3 * d.H),
      attn_c_proj(prefix + ".attn.c_proj", d.H, d.H),
      ln_2(prefix + ".ln_2", d.H, d.eps),
      c_fc(prefix + ".mlp.c_fc", d.H, d.I),
      mlp_c_proj(prefix + ".mlp.c_proj", d.I, d.H),
      H_(d.H),
      NH_(d.NH),
      D_(d.H / d.NH),
      I_(d.I),
      act_(d.act),
      attention_(d.H, d.NH, d.attn_dropout,
                 (d.scale_attn_weights ? std::sqrt(static_cast<float>(d.H / d.NH)) : 1.0f) *
                     (d.scale_by_inverse_layer_idx ? static_cast<float>(layer_index + 1) : 1.0f),
                 /*causal=*/true),
      resid_attn_dropout_(d.resid_dropout),
      resid_mlp_dropout_(d.resid_dropout) {}


void Gpt2Block::forward(const OpContext& ctx, const float* x, const float* mask_add, float* y, int64_t B, int64_t T,
                        Rng* rng, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_;
  float* a = a_.f32(n);
  float* qkv = qkv_.f32(3 * n);
  ln_1.forward(ctx, x, a, rows);
  c_attn.forward(ctx, a, qkv, rows);
  // Packed rows reach the heads through the padded layout (pad rows zero), and the context comes back the same way.
  float* padded = packing ? shared_scratch(SharedSlot::PaddedRows).f32(3 * B * T * H_) : nullptr;
  if (packing) unpack_rows(ctx, packing, qkv, padded, B, T, 3 * H_);
  split_qkv_heads(ctx, packing ? padded : qkv, attention_.heads(B, T), B, T, NH_, D_);  // (B·T, 3H) → qh | kh | vh
  float* context = ctx_.f32(n);
  attention_.forward(ctx, mask_add, packing ? padded : context, B, T, rng);
  if (packing) pack_rows(ctx, packing, padded, context, B, T, H_);
  residual_forward(ctx, x, y, rows, rng, packing);
}

void Gpt2Block::residual_forward(const OpContext& ctx, const float* x, float* y, int64_t rows, Rng* rng,
                                 const TokenPacking* dropout_rows) {
  const int64_t n = rows * H_;
  float* context = ctx_.f32(n);
  float* branch = branch_.f32(n);
  float* h1 = h1_.f32(n);
  attn_c_proj.forward(ctx, context, branch, rows);
  resid_attn_dropout_.forward(ctx, branch, branch, n, rng, dropout_rows);
  add(ctx, x, branch, h1, n);

  float* m = m_.f32(n);
  float* pre = pre_.f32(rows * I_);
  float* g = act_out_.f32(rows * I_);
  ln_2.forward(ctx, h1, m, rows);
  c_fc.forward(ctx, m, pre, rows);
  activation_forward(ctx, act_, pre, g, rows * I_);
  mlp_c_proj.forward(ctx, g, branch, rows);
  resid_mlp_dropout_.forward(ctx, branch, branch, n, rng, dropout_rows);
  add(ctx, h1, branch, y, n);
}

const float* Gpt2Block::residual_backward(const OpContext& ctx, const float* dy, int64_t rows) {
  const int64_t n = rows * H_;
  float* context = ctx_.f32(n);
  float* h1 = h1_.f32(n);
  float* m = m_.f32(n);
  float* pre = pre_.f32(rows * I_);
  float* g = act_out_.f32(rows * I_);
  float* branch = branch_.f32(n);
  float* dh1 = dh1_.f32(n);

  // MLP branch: Y = X' + Dropout(c_proj(act(c_fc(ln_2(X'))))).
  resid_mlp_dropout_.backward(ctx, dy, branch, n);
  mlp_c_proj.backward(ctx, g, branch, /*dx=*/g, rows);          // dg over g
  activation_backward(ctx, act_, pre, g, /*dx=*/pre, rows * I_);  // dpre over pre
  c_fc.backward(ctx, m, pre, /*dx=*/branch, rows);                // dm into branch
  ln_2.backward(ctx, h1, branch, dh1, rows);
  add_inplace(ctx, dy, dh1, n);

  // Attention branch: X' = X + Dropout(c_proj(ctx)).
  resid_attn_dropout_.backward(ctx, dh1, branch, n);
  attn_c_proj.backward(ctx, context, branch, /*dx=*/m, rows);  // dctx into m (free now)
  return m;
}

void Gpt2Block::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T,
                         const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_, padded_n = B * T * H_;
  float* a = a_.f32(n);
  float* qkv = qkv_.f32(3 * n);
  const float* m = residual_backward(ctx, dy, rows);  // d(context)
  float* dh1 = dh1_.f32(n);
  float* branch = branch_.f32(n);
  float* padded = packing ? shared_scratch(SharedSlot::PaddedRows).f32(3 * padded_n) : nullptr;
  if (packing) unpack_rows(ctx, packing, m, padded, B, T, H_);
  const AttentionCore::HeadGradients dh = attention_.backward(ctx, packing ? padded : m, B, T);
  // d(q|k|v) (rows, 3H) from the three head blocks: dK and dV sit over kh and vh; dQ comes from shared scratch into
  // the qh slot (Q is not needed any more), so the three are contiguous for one merge.
  float* heads = attention_.heads(B, T);
  copy_bytes(ctx, heads, dh.dq, static_cast<size_t>(padded_n) * sizeof(float));
  merge_qkv_heads(ctx, heads, packing ? padded : qkv, B, T, NH_, D_);  // over qkv, or packed into it
  if (packing) pack_rows(ctx, packing, padded, qkv, B, T, 3 * H_);
  c_attn.backward(ctx, a, qkv, /*dx=*/branch, rows);  // da into branch
  ln_1.backward(ctx, x, branch, dx, rows);
  add_inplace(ctx, dh1, dx, n);
}

void Gpt2Block::forward_head_rows(const OpContext& ctx, const float* x, const float* head_mask_add,
                                  const HeadRows& rows, float* y, int64_t B, int64_t T, Rng* rng,
                                  const TokenPacking* packing) {
  const int64_t layer_rows = active_rows(packing, B, T), n = layer_rows * H_, nb = B * H_, padded_n = B * T * H_;
  float* a = a_.f32(n);
  float* qkv = qkv_.f32(3 * n);
  ln_1.forward(ctx, x, a, layer_rows);
  c_attn.forward(ctx, a, qkv, layer_rows);
  float* padded = packing ? shared_scratch(SharedSlot::PaddedRows).f32(3 * padded_n) : nullptr;
  if (packing) unpack_rows(ctx, packing, qkv, padded, B, T, 3 * H_);
  float* heads = attention_.heads(B, T);
  split_qkv_heads(ctx, packing ? padded : qkv, heads, B, T, NH_, D_);  // (B·T, 3H) → qh | kh | vh
  // The head rows' queries (B, NH, 1, D) to the front of the Q block (through the staging slot: they overlap).
  float* stage = shared_scratch(SharedSlot::PaddedRows).f32(3 * padded_n);
  gather_token_rows(ctx, heads, rows.probs.row_index, stage, B * NH_, B * NH_ * T, D_);
  copy_bytes(ctx, heads, stage, static_cast<size_t>(B * NH_ * D_) * sizeof(float));
  attention_.forward_rows(ctx, head_mask_add, rows, ctx_.f32(nb), B, T, rng);
  float* x_head = x_head_.f32(nb);
  gather_token_rows(ctx, x, rows.layer_rows, x_head, B, layer_rows, H_);
  residual_forward(ctx, x_head, y, B, rng, &rows.tokens);
}

void Gpt2Block::backward_head_rows(const OpContext& ctx, const float* x, const float* dy, float* dx,
                                   const HeadRows& rows, int64_t B, int64_t T, const TokenPacking* packing) {
  const int64_t layer_rows = active_rows(packing, B, T), n = layer_rows * H_, nb = B * H_, padded_n = B * T * H_;
  float* a = a_.f32(n);
  float* qkv = qkv_.f32(3 * n);
  const float* m = residual_backward(ctx, dy, B);  // d(context) of the head rows; X' = X_head + …
  const float* dh1 = dh1_.f32(nb);
  float* branch = branch_.f32(std::max(n, nb));
  const AttentionCore::HeadGradients dh = attention_.backward_rows(ctx, m, B, T);
  // d(q|k|v) heads: dK and dV sit over kh and vh; the Q block is zero but for the head rows' dQ.
  float* heads = attention_.heads(B, T);
  fill_zero(ctx, heads, static_cast<size_t>(padded_n) * sizeof(float));
  embedding_backward(ctx, rows.probs.row_index, dh.dq, heads, B * NH_, B * NH_ * T, D_, /*padding_idx=*/-1);
  float* padded = packing ? shared_scratch(SharedSlot::PaddedRows).f32(3 * padded_n) : nullptr;
  merge_qkv_heads(ctx, heads, packing ? padded : qkv, B, T, NH_, D_);
  if (packing) pack_rows(ctx, packing, padded, qkv, B, T, 3 * H_);
  c_attn.backward(ctx, a, qkv, /*dx=*/branch, layer_rows);  // da into branch
  ln_1.backward(ctx, x, branch, dx, layer_rows);
  // The head rows' residual X' = X_head + …: their dX gets dX' too (a scatter-add, as the embedding backward does).
  embedding_backward(ctx, rows.layer_rows, dh1, dx, B, layer_rows, H_, /*padding_idx=*/-1);
}

void Gpt2Block::collect(ParameterList& out) {
  ln_1.collect(out);
  c_attn.collect(out);
  attn_c_proj.collect(out);
  ln_2.collect(out);
  c_fc.collect(out);
  mlp_c_proj.collect(out);
}

bool Gpt2Block::trainable() {
  ParameterList params;
  collect(params);
  return any_trainable(params) || has_trainable_adapter(c_attn.lora) || has_trainable_adapter(attn_c_proj.lora) ||
         has_trainable_adapter(c_fc.lora) || has_trainable_adapter(mlp_c_proj.lora);
}

}  // namespace accent
