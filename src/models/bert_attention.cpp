#include "models/bert_attention.h"

#include "ops/embedding.h"
#include "ops/tensor_ops.h"


namespace accent {

BertAttention::BertAttention(const std::string& prefix, const BertDims& d)
    : self(prefix + ".self", d.H, d.NH, d.attention_dropout),
      output_dense(prefix + ".output.dense", d.H, d.H),
      output_layer_norm(prefix + ".output.LayerNorm", d.H, d.eps),
      H_(d.H),
      dropout_(d.attention_output_dropout ? d.hidden_dropout : 0.0f) {}

void BertAttention::forward(const OpContext& ctx, const float* x, const float* mask_add, float* y, int64_t B,
                            int64_t T, Rng* rng, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_;
  float* context = context_.f32(n);
  float* residual = residual_.f32(n);
  self.forward(ctx, x, mask_add, context, B, T, rng, packing);
  output_dense.forward(ctx, context, residual, rows);
  // residual = Dropout(projection) + x ; y = LayerNorm(residual), in one pass.
  output_layer_norm.forward_add(ctx, residual, x, dropout_.draw(n, rng, packing), residual, y, rows);
}

void BertAttention::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T,
                             const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_;
  float* context = context_.f32(n);
  float* residual = residual_.f32(n);
  // dx = d(LayerNorm input) (the residual path), d(projection) = its dropout backward over the dead LN input.
  output_layer_norm.backward_add(ctx, residual, dy, dropout_.last_draw(), /*dsum=*/dx, /*dbranch=*/residual, rows);
  output_dense.backward(ctx, context, residual, /*dx=*/context, rows);  // d(context) over context
  self.backward(ctx, x, context, dx, B, T, /*accumulate_dx=*/true, packing);  // dx null: skipped inside
}

void BertAttention::forward_head_rows(const OpContext& ctx, const float* x, const float* mask_add,
                                      const HeadRows& rows, float* y, int64_t B, int64_t T, Rng* rng,
                                      const TokenPacking* packing) {
  const int64_t n = B * H_, layer_rows = active_rows(packing, B, T);
  float* x_head = x_head_.f32(n);
  float* context = context_.f32(n);
  float* residual = residual_.f32(n);
  gather_token_rows(ctx, x, rows.layer_rows, x_head, B, layer_rows, H_);
  self.forward_head_rows(ctx, x, x_head, mask_add, rows, context, B, T, rng, packing);
  output_dense.forward(ctx, context, residual, B);
  output_layer_norm.forward_add(ctx, residual, x_head, dropout_.draw(n, rng, &rows.tokens), residual, y, B);
}

void BertAttention::backward_head_rows(const OpContext& ctx, const float* x, const float* dy, float* dx,
                                       const HeadRows& rows, int64_t B, int64_t T, const TokenPacking* packing) {
  const int64_t n = B * H_, layer_rows = active_rows(packing, B, T);
  float* context = context_.f32(n);
  float* residual = residual_.f32(n);
  float* x_head = x_head_.f32(n);
  float* dx_head = dx ? dx_head_.f32(n) : nullptr;
  output_layer_norm.backward_add(ctx, residual, dy, dropout_.last_draw(), /*dsum=*/dx_head, /*dbranch=*/residual, B);
  output_dense.backward(ctx, context, residual, /*dx=*/context, B);  // d(context) over context
  // The query path's d(x_head) goes over x_head (Linear reads x before it writes dx).
  self.backward_head_rows(ctx, x, x_head, context, dx, dx ? x_head : nullptr, B, T, packing);
  if (!dx) return;
  // The head rows' own input gradient (residual path + query path) is added to their rows of dx: a scatter-add,
  // which the embedding backward is.
  add_inplace(ctx, x_head, dx_head, n);
  embedding_backward(ctx, rows.layer_rows, dx_head, dx, B, layer_rows, H_, /*padding_idx=*/-1);
}

void BertAttention::collect(ParameterList& out) {
  self.collect(out);
  output_dense.collect(out);
  output_layer_norm.collect(out);
}

}  // namespace accent
