// nn/linear.h — torch.nn.Linear: y = x·Wᵀ + b with W (out, in).
//
// Contract (all modules in nn/): parameter gradients accumulate (+=), activation gradients overwrite unless the
// call says accumulate. backward needs the same x that forward saw (the caller keeps it; Linear saves nothing).
// Under Precision::BF16, forward and dx = dy·W multiply a bf16 copy of the fp32 master weight that is re-made only
// when the weight changed (nn/bf16_weight_cache.h: keyed by the storage's version, which every non-const access
// stamps): once per optimizer step for a trained weight, once in all for a frozen one or for inference.
// With an int8 weight set (nn/int8_weight.h, dynamic int8 inference) forward multiplies that instead, whatever the
// precision; backward then refuses (an int8 layer is inference-only).
#pragma once
#include <string>

#include "nn/bf16_weight_cache.h"
#include "nn/int8_weight.h"
#include "nn/parameter.h"
#include "ops/backend.h"

namespace accent {

class LoraAdapter;  // nn/lora.h

class Linear {
 public:
  Linear() = default;
  // Parameters "<name>.weight" (out, in) and "<name>.bias" (out); zero-filled until loaded or initialised.
  Linear(const std::string& name, int64_t in_features, int64_t out_features, bool bias = true);

  Parameter weight;  // (out, in)
  Parameter bias;    // (out); undefined when !has_bias()
  int64_t in_features() const { return in_; }
  int64_t out_features() const { return out_; }
  bool has_bias() const { return has_bias_; }
  // Optional LoRA adapter (nn/lora.h) added to the output, not owned (the PEFT model wrapper owns it). Frozen
  // weight/bias (Parameter::trainable == false, nn/freeze.h) get no gradient products; dx still flows.
  LoraAdapter* lora = nullptr;

  // The frozen base of a LoRA model under bf16 mixed precision (models/peft_adapter.h): the weight held as bf16
  // only, its fp32 master dropped. The products multiplied a bf16 copy of it anyway, so nothing computed changes;
  // the weight's memory goes from fp32 master + bf16 copy (6 bytes a value) to 2. Host memory, frozen weights only.
  // restore_fp32_weight() widens it back (bf16 → fp32 is exact), for an fp32 run or a LoRA merge.
  void hold_weight_in_bf16();
  void restore_fp32_weight();
  bool weight_in_bf16() const { return weight.value.dtype() == DType::BF16; }

  // x (rows, in) → y (rows, out)
  void forward(const OpContext& ctx, const float* x, float* y, int64_t rows) const;
  // weight.grad += dyᵀ·x, bias.grad += Σ dy; then dx (rows, in) = dy·W (or += when accumulate_dx). dx may be
  // null (no input gradient wanted) and may alias x (x is read before dx is written), never dy.
  void backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows,
                bool accumulate_dx = false);
  void collect(ParameterList& out);

  // Dynamic int8 inference: forward multiplies `w` (quantized from this layer's weight, or loaded) from now on.
  void set_int8_weight(Int8Weight w) { int8_ = std::move(w); }
  const Int8Weight& int8_weight() const { return int8_; }
  // Whether this layer takes activations quantized ahead under ctx (an int8 weight, no adapter, the Cpu backend).
  bool takes_quantized_input(const OpContext& ctx) const {
    return !int8_.empty() && !lora && Int8Weight::quantized_inputs(ctx);
  }
  // forward() from rows quantized ahead (nn/int8_weight.h quantize_ahead); takes_quantized_input(ctx) must hold.
  void forward_quantized(const OpContext& ctx, QuantizedRows x, float* y, int64_t rows) const {
    int8_.forward_quantized(ctx, x, has_bias_ ? bias.value.f32() : nullptr, y, rows);
  }
  // act(forward()) quantized per row for the next int8 layer (nn/int8_weight.h forward_act_quantized).
  void forward_act_quantized(const OpContext& ctx, QuantizedRows x, Activation act, uint8_t* q, float* q_scale,
                             int64_t rows) const {
    int8_.forward_act_quantized(ctx, x, has_bias_ ? bias.value.f32() : nullptr, act, q, q_scale, rows);
  }

 private:
  Int8Weight int8_;              // empty unless the layer runs int8
  Bf16WeightCache weight_bf16_;  // (out, in) bf16 copy of weight, made by the first BF16 use after a change
  int64_t in_ = 0, out_ = 0;
  bool has_bias_ = true;
};

}  // namespace accent
