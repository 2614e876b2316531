// models/deberta_layer.h — DebertaV2Layer (post-LN, BERT's layout) with DisentangledSelfAttention, forward and
// hand-written backward (modeling_deberta_v2.py, share_att_key = True, DeBERTa-v3's layout):
//
//   q, k, v = query_proj(X), key_proj(X), value_proj(X)                       heads (B, NH, T, D)
//   E       = pos_dropout(Rel)                Rel (R, H): LayerNorm(rel_embeddings), R = 2·att_span rows
//   qr, kr  = query_proj(E), key_proj(E)                                      heads (NH, R, D): shared projections
//   c2p     = q·krᵀ (B, NH, T, R)    p2c = k·qrᵀ (B, NH, T, R)     (only the terms pos_att_type names)
//   R[i, j] = c2p[i, idx[i, j]] + p2c[j, idx[i, j]]                 ops/disentangled_scores.h; idx = clamp(bucket(i − j)
//                                                                   + att_span, 0, R − 1) (models/deberta_relative_positions.h)
//   P       = softmax((q·kᵀ + R) / √(D·(1 + #terms)) + M), dropout  nn/attention_core.h (HF divides each term by the
//                                                                   same scale; one division is the same sum)
//   A       = attention.output.LayerNorm(Dropout(attention.output.dense(P·v)) + X)
//   Y       = output.LayerNorm(Dropout(output.dense(act(intermediate.dense(A)))) + A)
// query_proj and key_proj run once on the stacked rows [X; E] (rows + R, H), so a LoRA adapter on them sees both
// inputs as PEFT's wrapped module does, in one forward and one backward.
// Backward: dS (the attention's score gradient) → dc2p, dp2c (scatter) → dq += dc2p·kr, dkr = Σ_b dc2p_bᵀ·q_b,
// dk += dp2c·qr, dqr = Σ_b dp2c_bᵀ·k_b; the E rows' input gradient, through pos_dropout, accumulates into dRel.
// Parameters "<prefix>.attention.self.{query_proj,key_proj,value_proj}.*", "<prefix>.attention.output.{dense,LayerNorm}.*",
// "<prefix>.intermediate.dense.*", "<prefix>.output.{dense,LayerNorm}.*" in HF state-dict order.
#pragma once
#include <cstdint>
#include <string>

#include "models/config_values.h"
#include "nn/attention_core.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "nn/token_packing.h"
#include "ops/activation.h"

namespace accent {

struct DebertaDims : CoreSizes {
  int64_t D = 0;
  int64_t pad = 0;               // word_embeddings' padding_idx
  float eps = 1e-7f;
  Activation act = Activation::Gelu, pooler_act = Activation::Gelu;
  float hidden_dropout = 0.1f, attention_dropout = 0.1f, pooler_dropout = 0.0f, cls_dropout = 0.1f;
  int64_t att_span = 256;        // position_buckets, or max_relative_positions without buckets
  int64_t bucket_size = 256;     // position_buckets (≤ 0: plain i − j)
  int64_t max_position = 512;    // max_relative_positions (−1 in the config → max_position_embeddings)
  bool c2p = true, p2c = true;   // pos_att_type
  int64_t R() const { return 2 * att_span; }
};

class DebertaLayer {
 public:
  DebertaLayer(const std::string& prefix, const DebertaDims& d);

  Linear query_proj, key_proj, value_proj, attention_output;
  LayerNorm attention_norm;
  Linear intermediate, output;
  LayerNorm output_norm;

  // x (rows, H) → y (rows, H), y must not alias x. rel (R, H) = LayerNorm(rel_embeddings); idx (T, T) int32 in the
  // ops' memory. With a packing x and y hold the packed rows; attention runs on the padded heads.
  void forward(const OpContext& ctx, const float* x, const float* rel, const int32_t* idx, const float* mask_add,
               float* y, int64_t B, int64_t T, Rng* rng, const TokenPacking* packing);
  // dy → dx (overwrite; must not alias dy); drel (R, H) += this layer's gradient of rel. x = the forward's input.
  void backward(const OpContext& ctx, const float* x, const int32_t* idx, const float* dy, float* dx, float* drel,
                int64_t B, int64_t T, const TokenPacking* packing);
  void collect(ParameterList& out);
  // Whether any parameter is trainable or a projection carries a trainable LoRA adapter.
  bool trainable();

 private:
  int64_t H_, NH_, D_, I_, R_;
  bool c2p_, p2c_;
  Activation act_;
  AttentionCore attention_;
  Dropout pos_dropout_, attention_output_dropout_, output_dropout_;
  // What backward reads; in inference one set for all layers (nn/scratch.h InferenceScratch).
  ScratchBuffer stack_{SharedSlot::DebertaLayerStack};          // (rows + R, H) [X; pos_dropout(Rel)]: query_proj's and key_proj's input
  ScratchBuffer pos_heads_{SharedSlot::DebertaLayerPosHeads};   // 2 × (NH, R, D): qr | kr
  ScratchBuffer context_{SharedSlot::DebertaLayerContext};      // (rows, H) attention context
  ScratchBuffer res1_{SharedSlot::DebertaLayerRes1};            // (rows, H) attention.output.LayerNorm's input
  ScratchBuffer a_{SharedSlot::DebertaLayerA};                  // (rows, H) A
  ScratchBuffer pre_{SharedSlot::DebertaLayerPre};              // (rows, I) intermediate.dense(A)
  ScratchBuffer act_out_{SharedSlot::DebertaLayerActOut};       // (rows, I) act(pre)
  ScratchBuffer res2_{SharedSlot::DebertaLayerRes2};            // (rows, H) output.LayerNorm's input
};

}  // namespace accent
