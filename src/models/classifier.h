// models/classifier.h — what the trainer and the pipeline need from any *ForSequenceClassification model.
#pragma once
#include <cstdint>
#include <string>

#include "core/rng.h"
#include "core/tensor.h"
#include "data/batch.h"
#include "nn/parameter.h"

namespace accent {

struct ForwardResult {
  Tensor logits;      // (B, C) F32
  float loss = 0.0f;  // mean loss (0 when the batch has no labels)
  bool has_loss = false;
};

class SequenceClassifier {
 public:
  virtual ~SequenceClassifier() = default;

  // All parameters in Hugging Face state-dict order (names as save_pretrained writes them).
  virtual ParameterList parameters() = 0;
  virtual int64_t num_labels() const = 0;
  virtual ProblemType problem_type() const = 0;

  // Inference: no dropout, nothing stored for backward.
  virtual ForwardResult forward(const Batch& batch) = 0;
  // Training: forward with dropout drawn from `dropout_rng` (advanced), loss from the batch labels, then backward;
  // parameter gradients accumulate (+=) into Parameter::grad. Returns logits and loss.
  virtual ForwardResult forward_backward(const Batch& batch, Rng& dropout_rng) = 0;
};

}  // namespace accent
