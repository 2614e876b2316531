// nn/layer_norm.h — torch.nn.LayerNorm over the last dimension, with the row statistics saved for backward.
#pragma once
#include <string>

#include "nn/parameter.h"
#include "nn/scratch.h"
#include "ops/backend.h"
#include "ops/dropout.h"
#include "ops/embedding_layernorm.h"

namespace accent {

class LayerNorm {
 public:
  LayerNorm() = default;
  // "<name>.weight", "<name>.bias" (C); weight 1, bias 0 (torch's default); no weight decay on either.
  // bias = false: nn.LayerNorm(bias=False) (ModernBERT's norm_bias), y = x̂·w; the fused forms below refuse it.
  LayerNorm(const std::string& name, int64_t C, float eps, bool bias = true);

  Parameter weight;  // (C)
  Parameter bias;    // (C); undefined when !has_bias()
  bool has_bias() const { return has_bias_; }
  float eps() const { return eps_; }

  // x (rows, C) → y (rows, C); saves mean/rstd (rows). y may alias x only when backward is not needed.
  void forward(const OpContext& ctx, const float* x, float* y, int64_t rows);
  // dx (rows, C) overwrite (may alias dy); weight/bias grads accumulate. x = the input of the last forward.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows);

  // Post-LN residual block tail, fused (ops/add_layernorm.h): sum = Dropout(branch) + residual (the dropout mask
  // given as a draw), y = LayerNorm(sum). sum is what backward_add needs; it may alias branch.
  void forward_add(const OpContext& ctx, const float* branch, const float* residual, const DropoutDraw& draw,
                   float* sum, float* y, int64_t rows);
  // From dy: dsum = d(sum) (overwrite; null = not wanted) and dbranch = dropout backward of it (overwrite; may
  // alias sum). sum and draw = those of the last forward_add.
  void backward_add(const OpContext& ctx, const float* sum, const float* dy, const DropoutDraw& draw, float* dsum,
                    float* dbranch, int64_t rows);
  // Embedding block, fused (ops/embedding_layernorm.h): sum = Σ lookups, y = Dropout(LayerNorm(sum)) with the
  // mask of `draw`. backward_embeddings: dsum = d(sum) (overwrite; may alias dy) for the tables' scatter-add.
  void forward_embeddings(const OpContext& ctx, const EmbeddingLookup* lookups, int count, const DropoutDraw& draw,
                          float* sum, float* y, int64_t rows);
  void backward_embeddings(const OpContext& ctx, const float* sum, const float* dy, const DropoutDraw& draw,
                           float* dsum, int64_t rows);
  void collect(ParameterList& out);

 private:
  int64_t C_ = 0;
  float eps_ = 1e-12f;
  bool has_bias_ = true;
  const float* bias_values() const { return has_bias_ ? bias.value.f32() : nullptr; }
  void check_fused_bias(const char* what) const;
  ScratchBuffer mean_{SharedSlot::LayerNormMean}, rstd_{SharedSlot::LayerNormRstd};  // (rows)
  // Where the weight/bias gradient sums go: the gradient buffers, or null (not computed) for a frozen parameter.
  float* weight_grad_sink();
  float* bias_grad_sink();
};

}  // namespace accent
