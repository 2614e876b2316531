#include "models/bert_attention.h"


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
  // residual = Dropout(projection) + x ; y = LayerNorm(residual), in one pass.
  output_layer_norm.forward_add(ctx, residual, x, dropout_.draw(n, rng), residual, y, rows);
}

void BertAttention::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T) {
  const int64_t rows = B * T, n = rows * H_;
  float* context = context_.f32(n);
  float* residual = residual_.f32(n);
  // dx = d(LayerNorm input) (the residual path), d(projection) = its dropout backward over the dead LN input.
  output_layer_norm.backward_add(ctx, residual, dy, dropout_.last_draw(), /*dsum=*/dx, /*dbranch=*/residual, rows);
  output_dense.backward(ctx, context, residual, /*dx=*/context, rows);  // d(context) over context
  self.backward(ctx, x, context, dx, B, T, /*accumulate_dx=*/true);    // dx null: skipped inside
}

void BertAttention::collect(ParameterList& out) {
  self.collect(out);
  output_dense.collect(out);
  output_layer_norm.collect(out);
}

}  // namespace accent
