// models/per_token_head.h — the heads of *ForTokenClassification and *ForQuestionAnswering: one Linear applied to
// every token's last hidden state, after a dropout (p = 0 where the class has none):
//   logits[b, t] = Dropout_p(X[b, t])·Wᵀ + bias            (B, T, C)
//   token classification: "classifier" (C = num_labels), p = classifier_dropout ?? hidden_dropout_prob
//     (DistilBERT: dropout; GPT-2: classifier_dropout ?? hidden_dropout ?? 0.1)
//   question answering: "qa_outputs" (C = 2: start, end), no dropout (DistilBERT: qa_dropout)
#pragma once
#include <string>

#include "nn/dropout.h"
#include "nn/linear.h"
#include "nn/scratch.h"

namespace accent {

class PerTokenHead {
 public:
  PerTokenHead() = default;
  // name: the Linear's module name; (C, H) weight.
  PerTokenHead(const std::string& name, int64_t H, int64_t C, float dropout);

  Linear out;

  // hidden (B, T, H) → logits (B, T, C). `hidden` must stay unchanged until backward (the encoder's output).
  void forward(const OpContext& ctx, const float* hidden, float* logits, int64_t B, int64_t T, Rng* rng);
  // dlogits (B, T, C) → dhidden (B, T, H) (overwritten).
  void backward(const OpContext& ctx, const float* dlogits, float* dhidden, int64_t B, int64_t T);
  void collect(ParameterList& params) { out.collect(params); }

 private:
  int64_t H_ = 0;
  Dropout dropout_;
  const float* input_ = nullptr;  // what `out` read in the last forward: hidden, or its dropped copy
  bool dropped_input_ = false;     // input_ is the dropped copy
  ScratchBuffer dropped_;          // (B, T, H) Dropout(hidden) when dropout is active
};

}  // namespace accent
