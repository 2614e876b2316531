#include "models/bert_feed_forward.h"


namespace accent {

BertFeedForward::BertFeedForward(const std::string& layer_prefix, const BertDims& d)
    : ffn(layer_prefix + ".intermediate.dense", layer_prefix + ".output.dense", d.H, d.I, d.act),
      output_layer_norm(layer_prefix + ".output.LayerNorm", d.H, d.eps),
      H_(d.H),
      dropout_(d.hidden_dropout) {}

void BertFeedForward::forward(const OpContext& ctx, const float* x, float* y, int64_t rows, Rng* rng,
                              const TokenPacking* packing) {
  const int64_t n = rows * H_;
  float* residual = residual_.f32(n);
  ffn.forward(ctx, x, residual, rows);
  output_layer_norm.forward_add(ctx, residual, x, dropout_.draw(n, rng, packing), residual, y, rows);
}

void BertFeedForward::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows) {
  float* residual = residual_.f32(rows * H_);
  output_layer_norm.backward_add(ctx, residual, dy, dropout_.last_draw(), /*dsum=*/dx, /*dbranch=*/residual, rows);
  ffn.backward(ctx, x, residual, dx, rows, /*accumulate_dx=*/true);
}

void BertFeedForward::collect(ParameterList& out) {
  ffn.dense_in.collect(out);   // intermediate.dense
  ffn.dense_out.collect(out);  // output.dense
  output_layer_norm.collect(out);
}

}  // namespace accent
