// models/gpt2_block.h — GPT2Block (pre-LN, causal self-attention), forward and hand-written backward.
//
//   a   = ln_1(X)                                         (B, T, H)
//   q|k|v = c_attn(a)                                     Conv1D (H → 3H), columns [q | k | v], heads inside each
//   ctx = causal attention(Q, K, V, M)                    nn/attention_core.h: S = Q·Kᵀ / √D (scale_attn_weights;
//                                                         / (layer+1) too with scale_attn_by_inverse_layer_idx),
//                                                         S[i, j > i] = finfo.min, P = softmax(S + M), dropout, ·V
//   X'  = X + Dropout_resid(c_proj(ctx))
//   Y   = X' + Dropout_resid(mlp.c_proj(act(mlp.c_fc(ln_2(X')))))
// Parameters "<prefix>.{ln_1, attn.c_attn, attn.c_proj, ln_2, mlp.c_fc, mlp.c_proj}.*" in HF state-dict order.
#pragma once
#include <string>

#include "models/gpt2_conv1d.h"
#include "nn/attention_core.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"
#include "nn/scratch.h"
#include "nn/token_packing.h"
#include "ops/activation.h"

namespace accent {

struct Gpt2Dims {
  int64_t V = 0, H = 0, L = 0, NH = 0, I = 0, P = 0, C = 0;
  int64_t pad = -1;  // pad_token_id (or eos when the config has none): pooling skips it
  float eps = 1e-5f;
  float resid_dropout = 0.1f, embd_dropout = 0.1f, attn_dropout = 0.1f;
  bool scale_attn_weights = true, scale_by_inverse_layer_idx = false;
  Activation act = Activation::GeluTanh;
};

class Gpt2Block {
 public:
  Gpt2Block(const std::string& prefix, const Gpt2Dims& d, int64_t layer_index);

  LayerNorm ln_1;
  Conv1D c_attn, attn_c_proj;
  LayerNorm ln_2;
  Conv1D c_fc, mlp_c_proj;

  // x (B, T, H), mask_add (B, T) or null → y (B, T, H); y must not alias x. With a packing (nn/token_packing.h)
  // x, y, dy and dx hold the packed rows (N, H): everything but the attention core runs on them.
  void forward(const OpContext& ctx, const float* x, const float* mask_add, float* y, int64_t B, int64_t T, Rng* rng,
               const TokenPacking* packing = nullptr);
  // dy → dx (overwrite, must not alias dy). x = the forward's input.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T,
                const TokenPacking* packing = nullptr);
  // The last block of a sequence classifier: y (B, H) = the outputs of the head rows only (nn/token_packing.h
  // HeadRows: each sequence's last non-pad token). ln_1 and c_attn run on every row (keys and values need them; the
  // fused q|k|v product computes the unused queries too), the attention on one query row per sequence, the rest on
  // B rows. head_mask_add (B, T): the key mask plus the causal cut of each head row (keys after it: finfo.min).
  void forward_head_rows(const OpContext& ctx, const float* x, const float* head_mask_add, const HeadRows& rows,
                         float* y, int64_t B, int64_t T, Rng* rng, const TokenPacking* packing);
  // dy (B, H) → dx (the block's rows, overwrite).
  void backward_head_rows(const OpContext& ctx, const float* x, const float* dy, float* dx, const HeadRows& rows,
                          int64_t B, int64_t T, const TokenPacking* packing);
  void collect(ParameterList& out);
  // Whether any parameter of the block is trainable or one of its Conv1D layers carries a trainable LoRA adapter.
  bool trainable();

 private:
  // After the attention (context in ctx_, rows of it): X' = x + Dropout(c_proj(ctx)), y = X' + Dropout(MLP(ln_2(X')));
  // dropout_rows maps packed or head rows to their padded rows (nn/token_packing.h).
  void residual_forward(const OpContext& ctx, const float* x, float* y, int64_t rows, Rng* rng,
                        const TokenPacking* dropout_rows);
  // Its backward from dy: leaves d(X') in dh1_ and returns d(context) (in m_).
  const float* residual_backward(const OpContext& ctx, const float* dy, int64_t rows);

  int64_t H_, NH_, D_, I_;
  Activation act_;
  AttentionCore attention_;
  Dropout resid_attn_dropout_, resid_mlp_dropout_;
  ScratchBuffer a_{SharedSlot::Gpt2BlockA};        // (rows, H) ln_1 output; reused for its gradient
  ScratchBuffer qkv_{SharedSlot::Gpt2BlockQkv};      // (rows, 3H) c_attn output; reused for its gradient
  ScratchBuffer ctx_{SharedSlot::Gpt2BlockCtx};      // (rows, H) merged context
  ScratchBuffer h1_{SharedSlot::Gpt2BlockH1};       // (rows, H) X' = X + attention branch
  ScratchBuffer m_{SharedSlot::Gpt2BlockM};        // (rows, H) ln_2 output; reused for its gradient
  ScratchBuffer pre_{SharedSlot::Gpt2BlockPre};      // (rows, I) c_fc output; reused for its gradient
  ScratchBuffer act_out_{SharedSlot::Gpt2BlockActOut};  // (rows, I) act(pre); reused for its gradient
  ScratchBuffer branch_{SharedSlot::Gpt2BlockBranch};   // (rows, H) a residual branch (dropped projection) / its gradient
  ScratchBuffer dh1_{SharedSlot::Gpt2BlockDh1};      // (rows, H) gradient of X'
  ScratchBuffer x_head_{SharedSlot::Gpt2BlockHeadRows};   // (B, H) the head rows of X (forward_head_rows)
};

}  // namespace accent
