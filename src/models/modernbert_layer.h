// models/modernbert_layer.h — ModernBertEncoderLayer (pre-norm, bias-free by default, rotary, global or local
// attention, gated GELU MLP), forward and hand-written backward.
//
//   a   = attn_norm(X)                     LayerNorm (no bias unless norm_bias); layer 0 has none: a = X
//   q|k|v = Wqkv(a)                        (rows, 3H), columns [q | k | v], heads inside each (as GPT-2's c_attn)
//   q, k ← RoPE(q, k)                      ops/rotary.h, θ = the layer type's rope_theta (global 160,000 / local
//                                          10,000 in ModernBERT-base), positions 0..T−1 (HF's eager/sdpa path)
//   ctx = attention(Q, K, V, M)            nn/attention_core.h, scale √D, non-causal; a local layer (layer % every ≠ 0,
//                                          every = global_attn_every_n_layers) sees keys with |i − j| ≤ local_attention/2
//   X'  = X + Dropout_a(Wo(ctx))           Dropout_a = attention_dropout (HF's out_drop)
//   Y   = X' + Wo_mlp(Dropout_m(act(in) ⊙ gate)),  in | gate = Wi(mlp_norm(X'))     ops/glu.h
// Parameters "<prefix>.attn_norm.*" (not in layer 0), "<prefix>.attn.{Wqkv, Wo}.*", "<prefix>.mlp_norm.*",
// "<prefix>.mlp.{Wi, Wo}.*" in HF state-dict order.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "models/config_values.h"
#include "nn/attention_core.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "nn/token_packing.h"
#include "ops/activation.h"

namespace accent {

struct ModernBertDims : CoreSizes {
  int64_t D = 0;
  int64_t pad = -1;  // tok_embeddings' padding_idx
  float eps = 1e-5f;
  bool norm_bias = false, attention_bias = false, mlp_bias = false, classifier_bias = false;
  float embedding_dropout = 0.0f, attention_dropout = 0.0f, mlp_dropout = 0.0f, classifier_dropout = 0.0f;
  Activation act = Activation::Gelu, head_act = Activation::Gelu;
  int64_t global_every = 3;        // global_attn_every_n_layers
  int64_t local_half_window = 64;  // local_attention / 2
  std::vector<bool> local_rope;    // per layer: the sliding-attention rope_theta (layer_types), else the global one
  double global_theta = 160000.0, local_theta = 10000.0;
  bool mean_pooling = false;       // classifier_pooling "mean" (else "cls")
  float init_cutoff = 2.0f;        // initializer_cutoff_factor
};

class ModernBertLayer {
 public:
  ModernBertLayer(const std::string& prefix, const ModernBertDims& d, int64_t layer_index);

  std::optional<LayerNorm> attn_norm;  // absent in layer 0 (nn.Identity)
  Linear Wqkv, attn_Wo;
  LayerNorm mlp_norm;
  Linear Wi, mlp_Wo;
  bool local() const { return local_; }

  // x (rows, H) → y (rows, H), y must not alias x. head_positions (B·NH·T) int32 in the ops' memory: t for every
  // (b, h, t) of the head blocks. With a packing x and y hold the packed rows; attention runs on the padded heads.
  void forward(const OpContext& ctx, const float* x, const int32_t* head_positions, const float* mask_add, float* y,
               int64_t B, int64_t T, Rng* rng, const TokenPacking* packing);
  // dy → dx (overwrite; must not alias dy). x = the forward's input.
  void backward(const OpContext& ctx, const float* x, const int32_t* head_positions, const float* dy, float* dx,
                int64_t B, int64_t T, const TokenPacking* packing);
  void collect(ParameterList& out);
  // Whether any parameter is trainable or a projection carries a trainable LoRA adapter.
  bool trainable();

 private:
  int64_t H_, NH_, D_, I_;
  bool local_;
  Activation act_;
  std::vector<float> inv_freq_;
  AttentionCore attention_;
  Dropout out_drop_, mlp_drop_;
  // (rows, H | 3H | H | H | H | 2I | I); in inference one set for all layers (nn/scratch.h InferenceScratch)
  ScratchBuffer a_{SharedSlot::ModernBertLayerA}, qkv_{SharedSlot::ModernBertLayerQkv},
      ctx_{SharedSlot::ModernBertLayerCtx}, h1_{SharedSlot::ModernBertLayerH1}, m_{SharedSlot::ModernBertLayerM},
      wi_{SharedSlot::ModernBertLayerWi}, glu_{SharedSlot::ModernBertLayerGlu};
};

}  // namespace accent
