// train/testing/bag_classifier.h — a tiny but real SequenceClassifier for testing the trainer without BERT.
//
// logits = W · Dropout(mean_{t: mask=1} E[input_ids[t]]) + b, with the loss of the problem type
// (cross-entropy mean over labels ≠ −100, BCE-with-logits mean over B·C, MSE mean over B·C) and an exact
// hand-written backward. Parameters (HF-style names): "embeddings.weight" [V,H], "classifier.weight" [C,H],
// "classifier.bias" [C] (no weight decay, as HF's Trainer exempts biases).
#pragma once
#include <cstdint>

#include "models/classifier.h"

namespace accent::testing {

struct BagClassifierConfig {
  int64_t vocab_size = 32;
  int64_t hidden_size = 8;
  int64_t num_labels = 2;
  ProblemType problem_type = ProblemType::SingleLabel;
  float dropout = 0.1f;
  float init_std = 0.5f;
  uint64_t init_seed = 1;
};

class BagClassifier : public SequenceClassifier {
 public:
  explicit BagClassifier(const BagClassifierConfig& config);

  ParameterList parameters() override { return {&embeddings_, &classifier_weight_, &classifier_bias_}; }
  int64_t num_labels() const override { return config_.num_labels; }
  ProblemType problem_type() const override { return config_.problem_type; }
  ForwardResult forward(const Batch& batch) override;
  ForwardResult forward_backward(const Batch& batch, Rng& dropout_rng) override;

  const BagClassifierConfig& bag_config() const { return config_; }

 private:
  // Forward pass; when `dropout_rng` is given applies dropout and, when `backward`, accumulates gradients.
  ForwardResult run(const Batch& batch, Rng* dropout_rng, bool backward);

  BagClassifierConfig config_;
  Parameter embeddings_;         // (V, H)
  Parameter classifier_weight_;  // (C, H)
  Parameter classifier_bias_;    // (C)
};

}  // namespace accent::testing
