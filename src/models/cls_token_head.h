// models/cls_token_head.h — the sequence-classification heads that read the first token (<s> / [CLS]):
//
//   RobertaClassificationHead, ElectraClassificationHead:   (dropout_first = true)
//     x = X[:, 0]; x = Dropout_c(x); x = act(dense(x)); x = Dropout_c(x); logits = out_proj(x)
//     act = tanh (RoBERTa), exact GELU (ELECTRA, whatever hidden_act says)
//   DeBERTa-v2 (ContextPooler, then the model's dropout):    (dropout_first = true, dropout_after = cls_dropout)
//     x = X[:, 0]; x = Dropout(pooler_dropout)(x); x = act(pooler.dense(x)); x = Dropout(cls_dropout)(x);
//     logits = classifier(x)
//   DistilBERT:                                            (dropout_first = false)
//     x = X[:, 0]; x = ReLU(pre_classifier(x)); x = Dropout(seq_classif_dropout)(x); logits = classifier(x)
#pragma once
#include <string>

#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "ops/activation.h"

namespace accent {

class ClsTokenHead {
 public:
  ClsTokenHead() = default;
  // dense_name (H, H), out_name (C, H). dropout_after < 0: the second dropout is `dropout` too.
  ClsTokenHead(const std::string& dense_name, const std::string& out_name, int64_t H, int64_t C, Activation act,
               float dropout, bool dropout_first, float dropout_after = -1.0f);

  Linear dense, out;

  // hidden (B, T, H) → logits (B, C).
  void forward(const OpContext& ctx, const float* hidden, float* logits, int64_t B, int64_t T, Rng* rng);
  // dlogits (B, C) → dhidden (B, T, H) (overwrite: zero except token 0).
  void backward(const OpContext& ctx, const float* dlogits, float* dhidden, int64_t B, int64_t T);
  void collect(ParameterList& out_params);

 private:
  int64_t H_ = 0;
  Activation act_ = Activation::Tanh;
  bool dropout_first_ = true;
  Dropout dropout_in_, dropout_out_;
  ScratchBuffer first_;  // (B, H) X[:, 0] after the first dropout; reused for its gradient
  ScratchBuffer pre_;    // (B, H) dense output; reused for its gradient
  ScratchBuffer act_out_;  // (B, H) act(pre) after dropout; reused for its gradient
};

}  // namespace accent
