// models/bert_classifier.h — BertForSequenceClassification (transformers), forward and hand-written backward.
//
//   X0 = BertEmbeddings(ids, token types)            (B, T, H)
//   X  = BertEncoder(X0, additive padding mask)      post-LN layers (models/bert_encoder.h)
//   logits = classifier(Dropout_c(tanh(pooler(X[:, 0]))))   (B, C)
//   loss by problem_type (models/classification_loss.h)
// Parameters are named and ordered exactly as HF's state_dict: "bert.embeddings.…", "bert.encoder.layer.L.…",
// "bert.pooler.dense.…", "classifier.…". Construction gives zero weights; init_weights() is HF's _init_weights.
#pragma once
#include <string>

#include "models/bert_dims.h"
#include "models/bert_embeddings.h"
#include "models/bert_encoder.h"
#include "models/bert_pooler_head.h"
#include "models/classifier.h"

namespace accent {

class BertForSequenceClassification final : public SequenceClassifier {
 public:
  static constexpr const char* kArchitecture = "BertForSequenceClassification";
  static constexpr const char* kBasePrefix = "bert";

  // `origin` names the config in error messages (e.g. the config.json path).
  explicit BertForSequenceClassification(ModelConfig config, const std::string& origin = "config");

  // HF _init_weights for every parameter: Linear/Embedding ~ Normal(0, initializer_range) (padding row zeroed),
  // biases 0, LayerNorm 1/0. Deterministic in `seed` (parameter i draws from Rng(seed).fork(i)).
  void init_weights(uint64_t seed);
  // The same initialisation for one parameter (a head missing from a checkpoint), from `rng`.
  void init_parameter(Parameter& p, const Rng& rng) const;

  ParameterList parameters() override;
  int64_t num_labels() const override { return dims_.C; }
  ProblemType problem_type() const override;
  ForwardResult forward(const Batch& batch) override;
  ForwardResult forward_backward(const Batch& batch, Rng& dropout_rng) override;
  const ModelConfig* config() const override { return &config_; }
  void set_problem_type(ProblemType type) override;
  void save_pretrained(const std::string& dir) const override;
  void set_op_context(const OpContext& ctx) override { ctx_ = ctx; }
  std::vector<NamedLinear> linear_modules() override;

  const BertDims& dims() const { return dims_; }

 private:
  ForwardResult run(const Batch& batch, Rng* rng, bool with_backward);

  ModelConfig config_;
  BertDims dims_;
  OpContext ctx_;
  BertEmbeddings embeddings_;
  BertEncoder encoder_;
  BertPoolerHead head_;
  ScratchBuffer mask_add_;  // (B, T) additive attention mask
  ScratchBuffer x0_;        // (B, T, H) embeddings output = encoder input
  ScratchBuffer grads_;     // 2 × (B, T, H): d(last hidden), d(X0)
  ScratchBuffer dlogits_;   // (B, C)
};

}  // namespace accent
