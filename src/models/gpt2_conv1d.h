// models/gpt2_conv1d.h — transformers' Conv1D (GPT-2): a linear layer whose weight is stored [in, out].
//
//   y = x·W + b            x (rows, in), W (in, out), b (out)       (no transpose, unlike nn.Linear)
//   dx = dy·Wᵀ ;  dW += xᵀ·dy ;  db += Σ_rows dy
// A LoRA adapter (nn/lora.h) hooks in exactly as on Linear (PEFT's lora.Linear with fan_in_fan_out = True: the
// adapter's A (r, in) and B (out, r) are the same; only the base weight is stored transposed). Frozen weight/bias
// (nn/freeze.h) get no gradient products; dx still flows. Under Precision::BF16 the forward and dx products use a
// bf16 copy of the weight re-made only when the weight changed (nn/bf16_weight_cache.h), as Linear does.
#pragma once
#include <string>

#include "nn/bf16_weight_cache.h"
#include "nn/int8_weight.h"
#include "nn/parameter.h"
#include "ops/backend.h"

namespace accent {

class LoraAdapter;  // nn/lora.h

class Conv1D {
 public:
  Conv1D() = default;
  // "<name>.weight" (in, out), "<name>.bias" (out).
  Conv1D(const std::string& name, int64_t in_features, int64_t out_features);

  Parameter weight;  // (in, out)
  Parameter bias;    // (out)
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  // Optional LoRA adapter added to the output, not owned (the PEFT model wrapper owns it).
  LoraAdapter* lora = nullptr;

  void forward(const OpContext& ctx, const float* x, float* y, int64_t rows);
  // Parameter gradients accumulate; dx (rows, in) overwritten (null = not wanted); dx may alias x (read first),
  // never dy.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows);
  void collect(ParameterList& out);

  // Dynamic int8 inference (nn/int8_weight.h, quantized per output column): forward multiplies `w` from now on;
  // backward refuses.
  void set_int8_weight(Int8Weight w) { int8_ = std::move(w); }
  const Int8Weight& int8_weight() const { return int8_; }

 private:
  Int8Weight int8_;  // empty unless the layer runs int8
  int64_t in_ = 0, out_ = 0;
  Bf16WeightCache weight_bf16_;  // (in, out) bf16 copy of weight
};

}  // namespace accent
