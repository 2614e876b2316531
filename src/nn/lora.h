// nn/lora.h — a LoRA adapter on a Linear (PEFT's lora.Linear; also on GPT-2's Conv1D, fan_in_fan_out = True,
// where only the base weight is stored transposed and A, B and the math below are the same):
//
//   y = W x + b + B (A (dropout(x))) · scale        A (r, in), B (out, r)
//   scale = alpha / r, or alpha / √r with rsLoRA (use_rslora)
//   init: A ~ kaiming_uniform(a = √5) = U(−1/√in, 1/√in), B = 0 (PEFT init_lora_weights = True)
//
// The adapter is attached to a Linear through Linear::lora (not owned); Linear::forward calls forward_add after
// its own product, Linear::backward calls backward_params before and backward_input_add after its input
// gradient. Parameters are named "<module>.lora_A.weight" / "<module>.lora_B.weight" (PEFT's adapter file names
// without the "base_model.model." prefix). Gradients (scale folded into the stored h = scale·A·x'):
//   dB += dyᵀ · h            u = scale · dy · B  (rows, r)
//   dA += uᵀ · x'            dx += dropout_backward(u · A)
// These rank-r products run in fp32 under bf16 mixed precision too (memory-bound; see adapter_context in lora.cpp).
#pragma once
#include <string>

#include "core/rng.h"
#include "nn/dropout.h"
#include "nn/parameter.h"
#include "nn/scratch.h"
#include "ops/backend.h"

namespace accent {

struct LoraHyper {
  int64_t r = 8;
  double alpha = 8;
  double dropout = 0.0;
  bool use_rslora = false;
  // alpha / r, or alpha / √r (rsLoRA), computed in double as PEFT's Python does, applied as float.
  float scale() const;
};

class LoraAdapter {
 public:
  LoraAdapter(const std::string& module_name, int64_t in_features, int64_t out_features, const LoraHyper& hyper);

  Parameter A;  // (r, in)
  Parameter B;  // (out, r)
  const std::string& module_name() const { return module_; }
  const LoraHyper& hyper() const { return hyper_; }
  float scale() const { return scale_; }

  // PEFT's reset_lora_parameters: A ~ U(−1/√in, 1/√in) from `rng`, B = 0.
  void init(const Rng& rng);
  // Dropout randomness for the next forward (null = inference: identity, nothing saved for dropout).
  void set_dropout_rng(Rng* rng) { rng_ = rng; }

  // y (rows, out) += scale · B·A·dropout(x)
  void forward_add(const OpContext& ctx, const float* x, float* y, int64_t rows);
  // Parameter gradients (accumulate) from the forward's x and dy; must run before dx overwrites x.
  void backward_params(const OpContext& ctx, const float* x, const float* dy, int64_t rows);
  // dx (rows, in) += the adapter's input gradient (after backward_params for the same step).
  void backward_input_add(const OpContext& ctx, float* dx, int64_t rows);
  // weight (out, in) += scale · B·A  (PEFT merge_and_unload); with fan_in_fan_out (GPT-2 Conv1D, weight stored
  // (in, out)) weight += (scale · B·A)ᵀ, as PEFT's transpose(delta_weight, fan_in_fan_out).
  void merge_into(float* weight, bool fan_in_fan_out = false) const;

  void collect(ParameterList& out);

 private:
  std::string module_;
  int64_t in_ = 0, out_ = 0;
  LoraHyper hyper_;
  float scale_ = 1.0f;
  Rng* rng_ = nullptr;
  Dropout dropout_;
  bool dropout_active_ = false;
  ScratchBuffer dropped_;  // (rows, in) dropout(x), only while dropout is active
  ScratchBuffer h_;        // (rows, r) scale · A·x'
  ScratchBuffer u_;        // (rows, r) scale · dy·B; then a (rows, in) temporary when dropout is active
  ScratchBuffer tmp_;      // (rows, in) u·A before the dropout backward
};

// Whether `adapter` (a Linear's or Conv1D's `lora`, may be null) has a trainable matrix: the wrapped module's
// backward is then needed even when its own weight is frozen.
bool has_trainable_adapter(const LoraAdapter* adapter);

}  // namespace accent
