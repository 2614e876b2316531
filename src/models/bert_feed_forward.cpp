#include "models/bert_feed_forward.h"

#include "ops/tensor_ops.h"

namespace accent {

BertFeedForward::BertFeedForward(const std::string& layer_prefix, const BertDims& d)
    : ffn(layer_prefix + ".intermediate.dense", layer_prefix + ".output.dense", d.H, d.I, d.act),
      output_layer_norm(layer_prefix + ".output.LayerNorm", d.H, d.eps),
      H_(d.H),
      dropout_(d.hidden_dropout) {}

void BertFeedForward::forward(const OpContext& ctx, const float* x, float* y, int64_t rows, Rng* rng) {
  const int64_t n = rows * H_;
  float* residual = residual_.f32(n);
  ffn.forward(ctx, x, residual, rows);
  dropout_.forward(ctx, residual, residual, n, rng);
  add_inplace(ctx, x, residual, n);
  output_layer_norm.forward(ctx, residual, y, rows);
}

void BertFeedForward::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows) {
  const int64_t n = rows * H_;
  float* residual = residual_.f32(n);
  float* grad = grad_.f32(n);
  output_layer_norm.backward(ctx, residual, dy, grad, rows);
  dropout_.backward(ctx, grad, residual, n);
  ffn.backward(ctx, x, residual, dx, rows);
  add_inplace(ctx, grad, dx, n);
}

void BertFeedForward::collect(ParameterList& out) {
  ffn.dense_in.collect(out);   // intermediate.dense
  ffn.dense_out.collect(out);  // output.dense
  output_layer_norm.collect(out);
}

}  // namespace accent
