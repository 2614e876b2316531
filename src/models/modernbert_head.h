// models/modernbert_head.h — ModernBERT's task head after pooling: ModernBertPredictionHead, dropout, classifier.
//
//   h = norm(act(dense(x)))          dense (H, H) with a bias when classifier_bias; act = classifier_activation;
//                                    norm = LayerNorm (bias when norm_bias)
//   logits = classifier(Dropout(h))  (C, H) with a bias; C = num_labels (2 for question answering)
// Over `rows` rows: the pooled (B, H) of sequence classification, or every (B·T) token for the per-token tasks.
// Parameters "head.dense.*", "head.norm.*", "classifier.*" (HF order).
#pragma once
#include <string>

#include "core/rng.h"
#include "nn/dropout.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "ops/activation.h"

namespace accent {

class ModernBertHead {
 public:
  ModernBertHead() = default;
  ModernBertHead(int64_t H, int64_t C, bool dense_bias, bool norm_bias, float eps, Activation act, float dropout);

  Linear dense;
  LayerNorm norm;
  Linear classifier;

  // x (rows, H) → logits (rows, C). x must stay unchanged until backward.
  void forward(const OpContext& ctx, const float* x, float* logits, int64_t rows, Rng* rng);
  // dlogits (rows, C) → dx (rows, H), overwritten; parameter gradients accumulate.
  void backward(const OpContext& ctx, const float* x, const float* dlogits, float* dx, int64_t rows);
  void collect(ParameterList& out);

 private:
  int64_t H_ = 0;
  Activation act_ = Activation::Gelu;
  Dropout dropout_;
  ScratchBuffer pre_, activated_, normed_;  // (rows, H) dense(x), act(·), Dropout(norm(·))
};

}  // namespace accent
