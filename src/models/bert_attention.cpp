#include "models/bert_attention.h"

#include "ops/tensor_ops.h"

namespace accent {

BertAttention::BertAttention(const std::string& prefix, const BertDims& d)
    : self(prefix + ".self", d.H, d.NH, d.attention_dropout),
      output_dense(prefix + ".output.dense", d.H, d.H),
      output_layer_norm(prefix + ".output.LayerNorm", d.H, d.eps),
      H_(d.H),
      dropout_(d.attention_output_dropout ? d.hidden_dropout : 0.0f) {}

void BertAttention::forward(const OpContext& ctx, const float* x, const float* mask_add, float* y, int64_t B,
                            int64_t T, Rng* rng) {
  const int64_t rows = B * T, n = rows * H_;
  float* context = context_.f32(n);
  float* residual = residual_.f32(n);
  self.forward(ctx, x, mask_add, context, B, T, rng);
  output_dense.forward(ctx, context, residual, rows);
  dropout_.forward(ctx, residual, residual, n, rng);
  add_inplace(ctx, x, residual, n);
  output_layer_norm.forward(ctx, residual, y, rows);
}

void BertAttention::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T) {
  const int64_t rows = B * T, n = rows * H_;
  float* context = context_.f32(n);
  float* residual = residual_.f32(n);
  float* grad = grad_.f32(n);
  output_layer_norm.backward(ctx, residual, dy, grad, rows);  // grad = d(LayerNorm input) = d(residual branch)
  dropout_.backward(ctx, grad, residual, n);                 // d(projection), over the no longer needed input
  output_dense.backward(ctx, context, residual, /*dx=*/context, rows);  // d(context) over context
  self.backward(ctx, x, context, dx, B, T);
  add_inplace(ctx, grad, dx, n);  // the residual path
}

void BertAttention::collect(ParameterList& out) {
  self.collect(out);
  output_dense.collect(out);
  output_layer_norm.collect(out);
}

}  // namespace accent
