// models/decoder_classifier.h — Qwen2ForSequenceClassification / LlamaForSequenceClassification and their
// *ForTokenClassification, forward and hand-written backward.
//
//   X0 = embed_tokens[ids]                              (B, T, H); padding_idx = config.json's pad_token_id
//   X  = DecoderLayer_L(…DecoderLayer_1(X0))            models/decoder_layer.h; positions 0..T−1 whatever the
//                                                       padding (HF's arange), causal + key mask
//   logits[b] = norm(X[b, last_b])·Wscoreᵀ              score (C, H), no bias (models/last_token_head.h: last_b =
//                                                       the last token ≠ pad); pad = pad_token_id, else
//                                                       eos_token_id (models/config_values.h)
//   Token classification: logits[b, t] = Dropout(norm(X[b, t]))·Wᵀ + bias, "score" (C, H) with a bias,
//   p = classifier_dropout ?? hidden_dropout ?? 0.1.
// Unpadded execution (models/transformer_classifier.h): the layers run on the packed real tokens, positions taken
// from each token's place in its padded row.
// Parameters "model.embed_tokens.weight", "model.layers.L.…", "model.norm.weight", "score.*". Init
// (Qwen2PreTrainedModel/LlamaPreTrainedModel._init_weights): Normal(0, initializer_range) for matrices and the
// embedding (padding row zero), biases 0, RMSNorm weights 1.
// Config: num_key_value_heads (default num_attention_heads), head_dim (default H/NH), rope_theta, rope_scaling
// (none, "default" or "llama3"), rms_norm_eps, attention_bias / mlp_bias (Llama), attention_dropout; Qwen2 has
// q/k/v biases always and no sliding-window attention unless use_sliding_window (refused).
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/decoder_layer.h"
#include "models/last_token_head.h"
#include "models/transformer_classifier.h"
#include "nn/embedding.h"
#include "nn/linear.h"
#include "nn/rms_norm.h"

namespace accent {

class DecoderClassifier final : public TransformerClassifier {
 public:
  // config.model_type "qwen2" or "llama".
  explicit DecoderClassifier(ModelConfig config, ModelTask task = ModelTask::SequenceClassification,
                             const std::string& origin = "config");

  std::string class_prefix() const override;
  std::string base_prefix() const override { return "model"; }
  std::string word_embeddings_name() const override { return embed_tokens_.weight.name; }
  int64_t vocab_size() const override { return dims_.V; }
  int64_t hidden_size() const override { return dims_.H; }
  void init_parameter(Parameter& p, const Rng& rng) const override;
  const DecoderDims& dims() const { return dims_; }
  // Every projection (q, k, v, o, gate, up, down per layer) in state-dict order, then the head.
  std::vector<NamedLinear> linear_modules() override;

 protected:
  void collect(ParameterList& out) override;
  void forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) override;
  void backward_logits(const Batch& batch, const float* dlogits) override;
  std::vector<int64_t> head_positions(const Batch& batch) const override;  // last_b
  int64_t attention_heads() const override { return dims_.NH; }
  void pad_token_id_changed() override { dims_.pad = *config_.pad_token_id; }

 private:
  DecoderDims dims_;
  Embedding embed_tokens_;
  std::vector<std::unique_ptr<DecoderLayer>> layers_;
  LastTokenHead<RmsNorm> head_;  // model.norm, then score / the token head
  std::vector<int32_t> ids_host_;  // (B, T) ids, then the layers' rows' positions, then B pooled rows b·T + last_b
  ScratchBuffer ids_;              // their copy in the ops' memory
  ScratchBuffer hidden_;  // (L + 1) × (rows, H): X0 and every layer output (packed rows with a packing)
  ScratchBuffer padded_;  // (B, T, H) with a packing: X0 before packing, the last state unpacked, gradients
  ScratchBuffer grads_;   // 2 × (rows, H) ping-pong gradients
};

}  // namespace accent
