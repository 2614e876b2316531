#include "nn/layer_norm.h"

#include "core/error.h"
#include "nn/parameter_init.h"
#include "ops/add_layernorm.h"
#include "ops/embedding_layernorm.h"
#include "ops/layernorm.h"

namespace accent {

LayerNorm::LayerNorm(const std::string& name, int64_t C, float eps, bool bias_on) : C_(C), eps_(eps), has_bias_(bias_on) {
  weight = make_parameter(name + ".weight", {C}, /*decay=*/false);
  if (has_bias_) bias = make_parameter(name + ".bias", {C}, /*decay=*/false);
  init_constant(weight, 1.0f);
}

void LayerNorm::check_fused_bias(const char* what) const {
  ACCENT_CHECK(has_bias_, weight.name, ": ", what, " needs a LayerNorm with a bias");
}

void LayerNorm::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) {
  layernorm_forward(ctx, x, weight.value.f32(), bias_values(), y, mean_.f32(rows), rstd_.f32(rows), rows, C_, eps_);
}

// A frozen weight/bias has no gradient buffer (nn/freeze.h): its sum is not computed (null to the ops).
float* LayerNorm::weight_grad_sink() { return weight.trainable ? weight.grad.f32() : nullptr; }
float* LayerNorm::bias_grad_sink() { return has_bias_ && bias.trainable ? bias.grad.f32() : nullptr; }

void LayerNorm::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows) {
  layernorm_backward(ctx, dy, x, weight.value.f32(), mean_.f32(rows), rstd_.f32(rows), dx, weight_grad_sink(),
                     bias_grad_sink(), rows, C_);
}

void LayerNorm::forward_add(const OpContext& ctx, const float* branch, const float* residual, const DropoutDraw& draw,
                            float* sum, float* y, int64_t rows) {
  check_fused_bias("the fused residual + LayerNorm");
  add_layernorm_forward(ctx, branch, residual, draw, weight.value.f32(), bias.value.f32(), sum, y, mean_.f32(rows),
                        rstd_.f32(rows), rows, C_, eps_);
}

void LayerNorm::backward_add(const OpContext& ctx, const float* sum, const float* dy, const DropoutDraw& draw,
                             float* dsum, float* dbranch, int64_t rows) {
  add_layernorm_backward(ctx, dy, sum, weight.value.f32(), mean_.f32(rows), rstd_.f32(rows), draw, dsum, dbranch,
                         weight_grad_sink(), bias_grad_sink(), rows, C_);
}

void LayerNorm::forward_embeddings(const OpContext& ctx, const EmbeddingLookup* lookups, int count,
                                   const DropoutDraw& draw, float* sum, float* y, int64_t rows) {
  check_fused_bias("the fused embeddings + LayerNorm");
  embedding_layernorm_forward(ctx, lookups, count, weight.value.f32(), bias.value.f32(), draw, sum, y,
                              mean_.f32(rows), rstd_.f32(rows), rows, C_, eps_);
}

void LayerNorm::backward_embeddings(const OpContext& ctx, const float* sum, const float* dy, const DropoutDraw& draw,
                                    float* dsum, int64_t rows) {
  embedding_layernorm_backward(ctx, dy, sum, weight.value.f32(), mean_.f32(rows), rstd_.f32(rows), draw, dsum,
                               weight_grad_sink(), bias_grad_sink(), rows, C_);
}

void LayerNorm::collect(ParameterList& out) {
  out.push_back(&weight);
  if (has_bias_) out.push_back(&bias);
}

}  // namespace accent
