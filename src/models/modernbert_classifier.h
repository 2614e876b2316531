// models/modernbert_classifier.h — ModernBertForSequenceClassification / ForTokenClassification, forward and
// hand-written backward (question answering is refused: see the constructor).
//
//   X0 = Dropout_e(norm(tok_embeddings[ids]))         no position embeddings (rotary in every layer)
//   X  = ModernBertLayer_L(…ModernBertLayer_1(X0))     models/modernbert_layer.h; key mask (1 − mask)·finfo.min
//   Z  = final_norm(X)
//   sequence classification: p_b = Z[b, 0] ("cls") or Σ_t mask·Z[b, t] / Σ_t mask ("mean"), logits = head(p)
//   token classification / QA: logits[b, t] = head(Z[b, t])                          models/modernbert_head.h
// Unpadded execution (models/transformer_classifier.h): the layers run on the packed real tokens, the final norm
// too; pooling reads the unpacked state.
// Parameters "model.embeddings.{tok_embeddings, norm}.*", "model.layers.L.…", "model.final_norm.*", "head.*",
// "classifier.*". Init (ModernBertPreTrainedModel._init_weights): truncated normals (± initializer_cutoff_factor·σ)
// with σ = initializer_range for Wqkv, Wi and the embeddings, initializer_range/√(2·L) for attn.Wo, mlp.Wo and
// head.dense, hidden_size^−½ for the classifier; biases 0, LayerNorms 1/0.
// Config: both layouts — global_rope_theta / local_rope_theta / global_attn_every_n_layers (the hub's files) and
// transformers 5's layer_types / rope_parameters; only the default rope type.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/modernbert_head.h"
#include "models/modernbert_layer.h"
#include "models/transformer_classifier.h"
#include "models/normed_token_embeddings.h"

namespace accent {

class ModernBertClassifier final : public TransformerClassifier {
 public:
  explicit ModernBertClassifier(ModelConfig config, ModelTask task = ModelTask::SequenceClassification,
                                const std::string& origin = "config");

  std::string class_prefix() const override { return "ModernBert"; }
  std::string base_prefix() const override { return "model"; }
  std::string word_embeddings_name() const override { return embeddings_.word.weight.name; }
  int64_t vocab_size() const override { return dims_.V; }
  int64_t hidden_size() const override { return dims_.H; }
  void init_parameter(Parameter& p, const Rng& rng) const override;
  const ModernBertDims& dims() const { return dims_; }
  // Wqkv, attn.Wo, Wi, mlp.Wo per layer in state-dict order, then head.dense and the classifier (both head).
  std::vector<NamedLinear> linear_modules() override;

 protected:
  void collect(ParameterList& out) override;
  void forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) override;
  void backward_logits(const Batch& batch, const float* dlogits) override;
  std::vector<int64_t> head_positions(const Batch& batch) const override;  // 0: the CLS token
  int64_t attention_heads() const override { return dims_.NH; }

 private:
  ModernBertDims dims_;
  NormedTokenEmbeddings embeddings_;  // model.embeddings.{tok_embeddings, norm}
  std::vector<std::unique_ptr<ModernBertLayer>> layers_;
  LayerNorm final_norm_;
  ModernBertHead head_;
  std::vector<int32_t> ids_host_;  // (B, T) ids, B·NH·T head positions t, B pooled rows b·T (cls)
  ScratchBuffer ids_;              // their copy in the ops' memory
  std::vector<float> pool_host_;   // (B, T) mean-pooling weights mask/Σmask
  ScratchBuffer pool_;
  ScratchBuffer hidden_;    // (L + 1) × (rows, H): X0 and every layer output (packed rows with a packing)
  ScratchBuffer final_;     // (rows, H) final_norm(X_L)
  ScratchBuffer padded_;    // (B·T, H): X0 before packing, Z unpacked, gradients
  ScratchBuffer pooled_;    // (B, H) pooled rows; their gradient
  ScratchBuffer grads_;     // 2 × (rows, H) ping-pong gradients
};

}  // namespace accent
