// models/decoder_layer.h — Qwen2DecoderLayer / LlamaDecoderLayer (pre-norm, causal, rotary, grouped-query
// attention, gated MLP), forward and hand-written backward.
//
//   a  = input_layernorm(X)                       RMSNorm (nn/rms_norm.h)
//   X' = X + self_attn(a, positions)              nn/grouped_query_attention.h (o_proj included)
//   Y  = X' + mlp(post_attention_layernorm(X'))   nn/gated_feed_forward.h
// No dropout but the attention probabilities' (attention_dropout, 0 in every released checkpoint).
// Parameters "<prefix>.self_attn.*", "<prefix>.mlp.*", "<prefix>.input_layernorm.weight",
// "<prefix>.post_attention_layernorm.weight" (HF state-dict order).
#pragma once
#include <optional>
#include <string>

#include "models/config_values.h"
#include "nn/gated_feed_forward.h"
#include "nn/grouped_query_attention.h"
#include "nn/rms_norm.h"
#include "nn/scratch.h"
#include "nn/token_packing.h"
#include "ops/activation.h"

namespace accent {

struct DecoderDims : CoreSizes {
  int64_t NKV = 0, D = 0;
  int64_t pad = -1;          // the token the head skips when pooling: pad_token_id, else eos_token_id
  int64_t padding_idx = -1;  // embed_tokens' padding_idx: config.json's own pad_token_id (none when absent)
  float eps = 1e-6f;         // rms_norm_eps
  float attention_dropout = 0.0f;
  double rope_theta = 10000.0;
  std::optional<RotaryScaling> llama3_scaling;  // rope_scaling {"rope_type": "llama3", ...}
  bool qkv_bias = false, output_bias = false, mlp_bias = false;
  Activation act = Activation::Silu;
};

class DecoderLayer {
 public:
  DecoderLayer(const std::string& prefix, const DecoderDims& d);

  GroupedQueryAttention self_attn;
  GatedFeedForward mlp;
  RmsNorm input_layernorm, post_attention_layernorm;

  // x (rows, H) → y (rows, H), y must not alias x. positions (rows) int32 in the ops' memory. With a packing x and
  // y hold the packed rows.
  void forward(const OpContext& ctx, const float* x, const int32_t* positions, const float* mask_add, float* y,
               int64_t B, int64_t T, Rng* rng, const TokenPacking* packing);
  // dy → dx (overwrite; must not alias dy). x = the forward's input.
  void backward(const OpContext& ctx, const float* x, const int32_t* positions, const float* dy, float* dx, int64_t B,
                int64_t T, const TokenPacking* packing);
  void collect(ParameterList& out);
  // Whether any parameter is trainable or a projection carries a trainable LoRA adapter.
  bool trainable();

 private:
  int64_t H_;
  ScratchBuffer a_{SharedSlot::DecoderLayerA};    // (rows, H) input_layernorm(X)
  ScratchBuffer h1_{SharedSlot::DecoderLayerH1};  // (rows, H) X'
  ScratchBuffer m_{SharedSlot::DecoderLayerM};    // (rows, H) post_attention_layernorm(X')
};

}  // namespace accent
