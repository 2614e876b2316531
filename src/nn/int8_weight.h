// nn/int8_weight.h — a layer's weight as int8 with one scale per output channel (dynamic int8 inference).
//
//   W ≈ values · scale[channel],  values ∈ [-127, 127],  scale[channel] = max |W[channel, :]| / 127
// (ops/matmul_int8.h has the arithmetic). The layer keeps its fp32 weight beside it (what everything that is not
// the product reads: saving fp32, parameter counts); a model loaded from an int8 directory gets values·scale there.
// An int8 layer is inference-only: it has no gradient path.
#pragma once
#include <string>

#include "core/tensor.h"
#include "ops/activation.h"
#include "ops/backend.h"
#include "ops/matmul_int8.h"
#include "ops/packed_weight.h"
#include "nn/scratch.h"

namespace accent {

class Int8Weight {
 public:
  Int8Weight() = default;
  // Quantizes `weight` (F32, host): stored (out, in) as nn.Linear when out_major, else (in, out) as GPT-2's Conv1D.
  static Int8Weight quantize(const Tensor& weight, bool out_major);
  // From saved tensors: values I8 in the weight's stored shape, scales F32 (out), each finite and > 0. `name` (the
  // module) names the tensor in errors.
  static Int8Weight from_tensors(Tensor values, Tensor scales, bool out_major, const std::string& name);

  bool empty() const { return values_.numel() == 0; }
  const Tensor& values() const { return values_; }  // I8, the weight's stored shape
  const Tensor& scales() const { return scales_; }  // F32 (out)
  bool out_major() const { return out_major_; }
  // values · scale in the stored shape (F32): the weight this int8 copy stands for.
  Tensor dequantized() const;

  // y (rows, out) = x (rows, in) · W + bias through the int8 product (bias may be null).
  void forward(const OpContext& ctx, const float* x, const float* bias, float* y, int64_t rows) const;

  // Activations quantized ahead (ops/matmul_int8.h QuantizedRows), so one quantization serves several layers and a
  // layer's output can go straight into the next one's input. The Cpu backend only (quantized_inputs(ctx)); the
  // numbers are forward()'s on the rows that were quantized.
  static bool quantized_inputs(const OpContext& ctx) { return ctx.backend == Backend::Cpu; }
  // x (rows, in) as quantize_rows_u8 made it → y (rows, out) = x·W + bias.
  void forward_quantized(const OpContext& ctx, QuantizedRows x, const float* bias, float* y, int64_t rows) const;
  // act(x·W + bias) quantized per row for the next int8 layer: q (rows, out) as q + 128, q_scale (rows).
  void forward_act_quantized(const OpContext& ctx, QuantizedRows x, const float* bias, Activation act, uint8_t* q,
                             float* q_scale, int64_t rows) const;

 private:
  Tensor values_;
  Tensor scales_;
  Tensor sums_;  // I32 (out): Σ of each output channel's values (ops/matmul_int8.h int8_column_sums)
  // The values packed for the cpu product (ops/packed_weight.h), made by the first Cpu forward (the ref backend
  // never needs it). Not thread-safe, as the layers are not re-entrant.
  mutable PackedWeight packed_;
  bool out_major_ = true;
  int64_t in_ = 0, out_ = 0;
  void compute_sums();
  // The product's view of this weight under ctx (packing it on the first Cpu use) and its shape for `rows`.
  Int8Operand operand(const OpContext& ctx) const;
  GemmShape shape(int64_t rows) const;
};

// Room for `rows` rows of `cols` quantized values and their scales in this thread's shared scratch `slot` (valid
// until the slot's next use), 64-byte aligned.
struct Int8RowsRoom {
  uint8_t* values;  // (rows, cols), q + 128
  float* scale;     // (rows)
  QuantizedRows view() const { return QuantizedRows{values, scale}; }
};
Int8RowsRoom int8_rows_room(SharedSlot slot, int64_t rows, int64_t cols);
// x (rows, cols) quantized once for several forward_quantized calls, into `slot` (as int8_rows_room).
QuantizedRows quantize_ahead(const float* x, int64_t rows, int64_t cols, SharedSlot slot);

}  // namespace accent
