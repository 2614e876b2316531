// models/bert_classifier.h — BertForSequenceClassification (transformers), forward and hand-written backward.
//
//   X0 = BertEmbeddings(ids, token types)            (B, T, H)
//   X  = BertEncoder(X0, additive padding mask)      post-LN layers (models/bert_encoder.h)
//   logits = classifier(Dropout_c(tanh(pooler(X[:, 0]))))   (B, C)
//   loss by problem_type (models/classification_loss.h, in TransformerClassifier)
// Parameters are named and ordered exactly as HF's state_dict: "bert.embeddings.…", "bert.encoder.layer.L.…",
// "bert.pooler.dense.…", "classifier.…". Construction gives zero weights; init_weights() is HF's _init_weights.
#pragma once
#include <string>

#include "models/bert_dims.h"
#include "models/bert_embeddings.h"
#include "models/bert_encoder.h"
#include "models/bert_pooler_head.h"
#include "models/transformer_classifier.h"

namespace accent {

class BertForSequenceClassification final : public TransformerClassifier {
 public:
  static constexpr const char* kArchitecture = "BertForSequenceClassification";
  static constexpr const char* kBasePrefix = "bert";

  // `origin` names the config in error messages (e.g. the config.json path).
  explicit BertForSequenceClassification(ModelConfig config, const std::string& origin = "config");

  std::string architecture() const override { return kArchitecture; }
  std::string base_prefix() const override { return kBasePrefix; }
  std::string word_embeddings_name() const override { return embeddings_.word.weight.name; }
  int64_t vocab_size() const override { return dims_.V; }
  int64_t hidden_size() const override { return dims_.H; }
  // HF _init_weights: Linear/Embedding ~ Normal(0, initializer_range) (padding row zeroed), biases 0,
  // LayerNorm 1/0.
  void init_parameter(Parameter& p, const Rng& rng) const override;
  std::vector<NamedLinear> linear_modules() override;

  const BertDims& dims() const { return dims_; }
  EncoderModules encoder_modules() override { return {&embeddings_, &encoder_}; }

 protected:
  void collect(ParameterList& out) override;
  void forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) override;
  void backward_logits(const Batch& batch, const float* dlogits) override;

 private:
  BertDims dims_;
  BertEmbeddings embeddings_;
  BertEncoder encoder_;
  BertPoolerHead head_;
  ScratchBuffer x0_;     // (B, T, H) embeddings output = encoder input
  ScratchBuffer grads_;  // 2 × (B, T, H): d(last hidden), d(X0)
};

}  // namespace accent
