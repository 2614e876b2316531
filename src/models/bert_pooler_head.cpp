#include "models/bert_pooler_head.h"

#include "ops/activation.h"
#include "ops/tensor_ops.h"

namespace accent {

BertPoolerHead::BertPoolerHead(const std::string& pooler_prefix, const std::string& classifier_name,
                               const BertDims& d)
    : pooler_dense(pooler_prefix + ".dense", d.H, d.H),
      classifier(classifier_name, d.H, d.C),
      H_(d.H),
      dropout_(d.classifier_dropout) {}

void BertPoolerHead::forward(const OpContext& ctx, const float* hidden, float* logits, int64_t B, int64_t T, Rng* rng) {
  float* first = first_.f32(B * H_);
  float* pre = pre_.f32(B * H_);
  float* pooled = pooled_.f32(B * H_);
  gather_rows(ctx, hidden, first, B, T, H_, /*index=*/0);
  pooler_dense.forward(ctx, first, pre, B);
  activation_forward(ctx, Activation::Tanh, pre, pooled, B * H_);
  dropout_.forward(ctx, pooled, pooled, B * H_, rng);
  classifier.forward(ctx, pooled, logits, B);
}

void BertPoolerHead::backward(const OpContext& ctx, const float* dlogits, float* dhidden, int64_t B, int64_t T) {
  float* first = first_.f32(B * H_);
  float* pre = pre_.f32(B * H_);
  float* pooled = pooled_.f32(B * H_);
  classifier.backward(ctx, pooled, dlogits, /*dx=*/pooled, B);
  dropout_.backward(ctx, pooled, pooled, B * H_);
  activation_backward(ctx, Activation::Tanh, pre, pooled, /*dx=*/pre, B * H_);
  pooler_dense.backward(ctx, first, pre, /*dx=*/first, B);
  scatter_rows(ctx, first, dhidden, B, T, H_, /*index=*/0);
}

}  // namespace accent
