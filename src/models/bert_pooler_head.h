// models/bert_pooler_head.h — BertPooler + the sequence-classification head of BertForSequenceClassification:
//   pooled = tanh(X[:, 0]·Wpᵀ + bp)                 (B, H)   "bert.pooler.dense.*"
//   logits = Dropout_c(pooled)·Wcᵀ + bc              (B, C)   "classifier.*"  (p = classifier_dropout ?? hidden)
#pragma once
#include <string>

#include "models/bert_dims.h"
#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/scratch.h"

namespace accent {

class BertPoolerHead {
 public:
  BertPoolerHead() = default;
  BertPoolerHead(const std::string& pooler_prefix, const std::string& classifier_name, const BertDims& d);

  Linear pooler_dense;
  Linear classifier;

  // hidden (B, T, H) → logits (B, C).
  void forward(const OpContext& ctx, const float* hidden, float* logits, int64_t B, int64_t T, Rng* rng);
  // dlogits (B, C) → dhidden (B, T, H) (overwrite: zero except token 0).
  void backward(const OpContext& ctx, const float* dlogits, float* dhidden, int64_t B, int64_t T);
  void collect_pooler(ParameterList& out) { pooler_dense.collect(out); }
  void collect_classifier(ParameterList& out) { classifier.collect(out); }

 private:
  int64_t H_ = 0;
  Dropout dropout_;
  ScratchBuffer first_;   // (B, H) X[:, 0]; reused for its gradient
  ScratchBuffer pre_;     // (B, H) dense output before tanh; reused for its gradient
  ScratchBuffer pooled_;  // (B, H) Dropout_c(tanh(pre)); reused for its gradient
};

}  // namespace accent
