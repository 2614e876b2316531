// models/bert_encoder.h — the post-LN Transformer encoder shared by BERT, RoBERTa and ELECTRA.
//
// BertLayer: X' = BertAttention(X), X_next = BertFeedForward(X'). BertEncoder runs L layers and keeps every
// layer's input (B, T, H) for backward. Parameters "<prefix>.layer.<l>.…" in HF state-dict order.
//
// Backward does only the work some trainable tensor needs (as autograd does with requires_grad=False below a
// point): when the caller wants no input gradient (nothing below the encoder trains: frozen embeddings, LoRA),
// layers below the lowest one holding a trainable parameter or LoRA adapter (--freeze-layers N) are not run at
// all, and the lowest one's input gradient is not wanted either.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/bert_attention.h"
#include "models/bert_feed_forward.h"

namespace accent {

class BertLayer {
 public:
  BertLayer(const std::string& prefix, const BertDims& d);

  BertAttention attention;
  BertFeedForward feed_forward;

  // x → y (B, T, H), y must not alias x. With a packing (nn/token_packing.h) x, y, dy and dx hold packed rows (N, H).
  void forward(const OpContext& ctx, const float* x, const float* mask_add, float* y, int64_t B, int64_t T, Rng* rng,
               const TokenPacking* packing = nullptr);
  // dy → dx (overwrite, must not alias dy). dx null = no input gradient wanted: the attention's backward runs
  // only when the attention holds something trainable, and then without its input-gradient products.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T,
                const TokenPacking* packing = nullptr);
  // The last layer of a sequence classifier: y (B, H), the head rows' outputs only (nn/token_packing.h HeadRows).
  void forward_head_rows(const OpContext& ctx, const float* x, const float* mask_add, const HeadRows& rows, float* y,
                         int64_t B, int64_t T, Rng* rng, const TokenPacking* packing);
  // dy (B, H) → dx (the layer's rows; overwrite, null = not wanted).
  void backward_head_rows(const OpContext& ctx, const float* x, const float* dy, float* dx, const HeadRows& rows,
                          int64_t B, int64_t T, const TokenPacking* packing);
  void collect(ParameterList& out);
  // Whether any parameter of the attention block / of the whole layer is trainable or carries a LoRA adapter with
  // a trainable matrix.
  bool attention_trainable();
  bool trainable();
  // How many BertLayer backward passes this process has run (any layer, any thread): lets tests see which layers
  // a frozen-bottom backward skipped.
  static int64_t backward_runs();

 private:
  int64_t H_;
  ScratchBuffer middle_{SharedSlot::BertLayerMiddle};   // (B, T, H) attention output = feed-forward input
};

class BertEncoder {
 public:
  BertEncoder() = default;
  BertEncoder(const std::string& prefix, const BertDims& d);

  std::vector<std::unique_ptr<BertLayer>> layers;

  // x0 (B, T, H) → the last hidden state (B, T, H), which lives in the encoder and stays valid until the next call.
  // With a packing (unpadded execution, nn/token_packing.h) the layers run on the real tokens only: x0 is packed
  // first and the last hidden state unpacked, its pad rows 0 (the padded path's pad rows are never read: a head
  // reads real tokens, and pad keys have attention probability 0).
  // With head rows (a sequence classifier, nn/token_packing.h HeadRows) the last layer computes those rows only
  // (keys and values of every token) and the returned state holds them, every other row 0.
  const float* forward(const OpContext& ctx, const float* x0, const float* mask_add, int64_t B, int64_t T, Rng* rng,
                       const TokenPacking* packing = nullptr, const HeadRows* head_rows = nullptr);
  // d(last hidden state) → d(x0) (B, T, H) written into dx0 (overwrite). x0 = the forward's input. dx0 null = the
  // input gradient is not wanted: backward stops at lowest_trainable_layer(), which skips its input gradient.
  // The packing is the forward's (pad rows of dx0 are 0, as on the padded path where nothing reads them).
  void backward(const OpContext& ctx, const float* x0, const float* dlast, float* dx0, int64_t B, int64_t T,
                const TokenPacking* packing = nullptr, const HeadRows* head_rows = nullptr);
  void collect(ParameterList& out);
  // The lowest layer holding a trainable parameter or LoRA adapter; layers.size() when none does.
  int64_t lowest_trainable_layer();
  // The dense layers of every block in order (query, key, value, attention output, FFN in, FFN out), for LoRA.
  std::vector<Linear*> linears();
  // Called after each layer's backward with that layer's parameters (their gradients are then final).
  GradReadyHook grad_ready_hook;

 private:
  int64_t H_ = 0;
  ScratchBuffer hidden_;    // L × (rows, H): outputs of layers 0..L−1 (layer l's input is x0 or output l−1)
  ScratchBuffer gradient_;  // 3 × (rows, H): ping-pong gradients, d(last hidden) packed
  ScratchBuffer packed_;    // (N, H) x0 packed; (B, T, H) the last hidden state unpacked (with a packing or head rows)
};

}  // namespace accent
