#include "models/deberta_layer.h"

#include <cmath>

#include "nn/freeze.h"
#include "nn/lora.h"
#include "ops/disentangled_scores.h"
#include "ops/matmul.h"
#include "ops/memory.h"
#include "ops/tensor_ops.h"

namespace accent {

DebertaLayer::DebertaLayer(const std::string& prefix, const DebertaDims& d)
    : query_proj(prefix + ".attention.self.query_proj", d.H, d.H, true),
      key_proj(prefix + ".attention.self.key_proj", d.H, d.H, true),
      value_proj(prefix + ".attention.self.value_proj", d.H, d.H, true),
      attention_output(prefix + ".attention.output.dense", d.H, d.H, true),
      attention_norm(prefix + ".attention.output.LayerNorm", d.H, d.eps),
      intermediate(prefix + ".intermediate.dense", d.H, d.I, true),
      output(prefix + ".output.dense", d.I, d.H, true),
      output_norm(prefix + ".output.LayerNorm", d.H, d.eps),
      H_(d.H),
      NH_(d.NH),
      D_(d.D),
      I_(d.I),
      R_(d.R()),
      c2p_(d.c2p),
      p2c_(d.p2c),
      act_(d.act),
      // scale_factor = 1 + the number of relative terms; HF: sqrt(float(D) · scale_factor)
      attention_(d.H, d.NH, d.attention_dropout,
                 std::sqrt(static_cast<float>(d.D) * static_cast<float>(1 + (d.c2p ? 1 : 0) + (d.p2c ? 1 : 0))),
                 /*causal=*/false),
      pos_dropout_(d.hidden_dropout),
      attention_output_dropout_(d.hidden_dropout),
      output_dropout_(d.hidden_dropout) {}

void DebertaLayer::forward(const OpContext& ctx, const float* x, const float* rel, const int32_t* idx,
                           const float* mask_add, float* y, int64_t B, int64_t T, Rng* rng,
                           const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_, RH = R_ * H_, block = B * NH_ * T * D_;
  const int64_t head_block = NH_ * T * D_, rel_block = NH_ * T * R_;
  float* stack = stack_.f32(n + RH);
  copy_bytes(ctx, stack, x, static_cast<size_t>(n) * sizeof(float));
  pos_dropout_.forward(ctx, rel, stack + n, RH, rng);

  float* proj = shared_scratch(SharedSlot::DebertaProjected).f32(n + RH);
  float* padded = packing ? shared_scratch(SharedSlot::DebertaPadded).f32(B * T * H_) : nullptr;
  float* heads = attention_.heads(B, T);  // Q | K | V, each (B, NH, T, D)
  float* pos = pos_heads_.f32(2 * RH);   // qr | kr, each (NH, R, D)
  auto to_heads = [&](const float* in, float* dst) {
    if (packing) {
      unpack_rows(ctx, packing, in, padded, B, T, H_);
      in = padded;
    }
    split_heads(ctx, in, dst, B, T, NH_, D_);
  };
  query_proj.forward(ctx, stack, proj, rows + R_);
  to_heads(proj, heads);
  split_heads(ctx, proj + n, pos, 1, R_, NH_, D_);
  key_proj.forward(ctx, stack, proj, rows + R_);
  to_heads(proj, heads + block);
  split_heads(ctx, proj + n, pos + RH, 1, R_, NH_, D_);
  value_proj.forward(ctx, x, proj, rows);
  to_heads(proj, heads + 2 * block);

  // The relative terms, per sequence b: c2p_b (NH, T, R) = q_b · krᵀ, p2c_b = k_b · qrᵀ (one batched gemm over heads).
  const float *qh = heads, *kh = heads + block, *qr = pos, *kr = pos + RH;
  float* c2p = c2p_ ? shared_scratch(SharedSlot::DebertaC2p).f32(B * rel_block) : nullptr;
  float* p2c = p2c_ ? shared_scratch(SharedSlot::DebertaP2c).f32(B * rel_block) : nullptr;
  for (int64_t b = 0; b < B; ++b) {
    if (c2p) gemm(ctx, GemmShape{NH_, T, R_, D_, false, true}, qh + b * head_block, kr, nullptr, c2p + b * rel_block, false);
    if (p2c) gemm(ctx, GemmShape{NH_, T, R_, D_, false, true}, kh + b * head_block, qr, nullptr, p2c + b * rel_block, false);
  }
  float* scores = shared_scratch(SharedSlot::DebertaScores).f32(B * NH_ * T * T);
  disentangled_scores_forward(ctx, c2p, p2c, idx, scores, B * NH_, T, R_);

  float* context = context_.f32(n);
  attention_.forward(ctx, mask_add, packing ? padded : context, B, T, rng, scores);
  if (packing) pack_rows(ctx, packing, padded, context, B, T, H_);

  float* res1 = res1_.f32(n);
  float* a = a_.f32(n);
  attention_output.forward(ctx, context, res1, rows);
  attention_output_dropout_.forward(ctx, res1, res1, n, rng, packing);
  add_inplace(ctx, x, res1, n);
  attention_norm.forward(ctx, res1, a, rows);

  float* pre = pre_.f32(rows * I_);
  float* act_out = act_out_.f32(rows * I_);
  float* res2 = res2_.f32(n);
  intermediate.forward(ctx, a, pre, rows);
  activation_forward(ctx, act_, pre, act_out, rows * I_);
  output.forward(ctx, act_out, res2, rows);
  output_dropout_.forward(ctx, res2, res2, n, rng, packing);
  add_inplace(ctx, a, res2, n);
  output_norm.forward(ctx, res2, y, rows);
}

void DebertaLayer::backward(const OpContext& ctx, const float* x, const int32_t* idx, const float* dy, float* dx,
                            float* drel, int64_t B, int64_t T, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_, RH = R_ * H_, block = B * NH_ * T * D_;
  const int64_t head_block = NH_ * T * D_, rel_block = NH_ * T * R_;
  float* stack = stack_.f32(n + RH);
  float* pos = pos_heads_.f32(2 * RH);
  float* context = context_.f32(n);
  float* res1 = res1_.f32(n);
  float* a = a_.f32(n);
  float* pre = pre_.f32(rows * I_);
  float* act_out = act_out_.f32(rows * I_);
  float* res2 = res2_.f32(n);

  // Feed-forward block: Y = LN2(Dropout(output(act(intermediate(A)))) + A).
  output_norm.backward(ctx, res2, dy, dx, rows);              // dx = d(res2): the residual's gradient to A
  output_dropout_.backward(ctx, dx, res2, n);                 // d(output.dense out) over res2
  output.backward(ctx, act_out, res2, /*dx=*/act_out, rows);  // d(act) over act_out
  activation_backward(ctx, act_, pre, act_out, pre, rows * I_);
  intermediate.backward(ctx, a, pre, /*dx=*/res2, rows);
  add_inplace(ctx, dx, res2, n);                              // dA in res2
  // Attention block: A = LN1(Dropout(attention.output(context)) + X).
  attention_norm.backward(ctx, res1, res2, dx, rows);         // dx = d(res1): the residual's gradient to X
  attention_output_dropout_.backward(ctx, dx, res1, n);
  attention_output.backward(ctx, context, res1, /*dx=*/context, rows);  // d(context) over context

  float* padded = packing ? shared_scratch(SharedSlot::DebertaPadded).f32(B * T * H_) : nullptr;
  if (packing) unpack_rows(ctx, packing, context, padded, B, T, H_);
  float* heads = attention_.heads(B, T);
  float* k_heads = shared_scratch(SharedSlot::DebertaKeyHeads).f32(block);  // the backward writes dK over K
  copy_bytes(ctx, k_heads, heads + block, static_cast<size_t>(block) * sizeof(float));
  const AttentionCore::HeadGradients g = attention_.backward(ctx, packing ? padded : context, B, T);
  float* dq = const_cast<float*>(g.dq);  // shared scratch, ours until the next attention call
  float* dk = const_cast<float*>(g.dk);
  const float *qh = heads, *qr = pos, *kr = pos + RH;

  // Relative terms: dS → dc2p, dp2c; then into q, k and the position heads qr, kr.
  float* dc2p = c2p_ ? shared_scratch(SharedSlot::DebertaC2p).f32(B * rel_block) : nullptr;
  float* dp2c = p2c_ ? shared_scratch(SharedSlot::DebertaP2c).f32(B * rel_block) : nullptr;
  disentangled_scores_backward(ctx, g.dscores, idx, dc2p, dp2c, B * NH_, T, R_);
  float* dpos = shared_scratch(SharedSlot::DebertaScores).f32(2 * RH);  // dqr | dkr (NH, R, D)
  fill_zero(ctx, dpos, static_cast<size_t>(2 * RH) * sizeof(float));
  for (int64_t b = 0; b < B; ++b) {
    if (dc2p) {  // dkr += dc2p_bᵀ · q_b;  dq_b += dc2p_b · kr
      gemm(ctx, GemmShape{NH_, R_, D_, T, true, false}, dc2p + b * rel_block, qh + b * head_block, nullptr, dpos + RH, true);
      gemm(ctx, GemmShape{NH_, T, D_, R_, false, false}, dc2p + b * rel_block, kr, nullptr, dq + b * head_block, true);
    }
    if (dp2c) {  // dqr += dp2c_bᵀ · k_b;  dk_b += dp2c_b · qr
      gemm(ctx, GemmShape{NH_, R_, D_, T, true, false}, dp2c + b * rel_block, k_heads + b * head_block, nullptr, dpos,
           true);
      gemm(ctx, GemmShape{NH_, T, D_, R_, false, false}, dp2c + b * rel_block, qr, nullptr, dk + b * head_block, true);
    }
  }

  // Back to rows: [dX rows; dE rows] per projection, one backward each over the stacked input.
  float* dproj = shared_scratch(SharedSlot::DebertaProjected).f32(n + RH);
  float* dstack = shared_scratch(SharedSlot::DebertaStackGrad).f32(n + RH);
  auto from_heads = [&](const float* h, float* out) {
    merge_heads(ctx, h, packing ? padded : out, B, T, NH_, D_);
    if (packing) pack_rows(ctx, packing, padded, out, B, T, H_);
  };
  from_heads(dq, dproj);
  merge_heads(ctx, dpos, dproj + n, 1, R_, NH_, D_);
  query_proj.backward(ctx, stack, dproj, dstack, rows + R_);
  from_heads(dk, dproj);
  merge_heads(ctx, dpos + RH, dproj + n, 1, R_, NH_, D_);
  key_proj.backward(ctx, stack, dproj, dstack, rows + R_, /*accumulate_dx=*/true);
  add_inplace(ctx, dstack, dx, n);
  pos_dropout_.backward(ctx, dstack + n, dstack + n, RH);
  add_inplace(ctx, dstack + n, drel, RH);
  from_heads(g.dv, dproj);
  value_proj.backward(ctx, x, dproj, dx, rows, /*accumulate_dx=*/true);
}

void DebertaLayer::collect(ParameterList& out) {
  for (Linear* l : {&query_proj, &key_proj, &value_proj, &attention_output}) l->collect(out);
  attention_norm.collect(out);
  intermediate.collect(out);
  output.collect(out);
  output_norm.collect(out);
}

bool DebertaLayer::trainable() {
  ParameterList params;
  collect(params);
  if (any_trainable(params)) return true;
  for (Linear* l : {&query_proj, &key_proj, &value_proj, &attention_output, &intermediate, &output})
    if (has_trainable_adapter(l->lora)) return true;
  return false;
}

}  // namespace accent
