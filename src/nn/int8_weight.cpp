#include "nn/int8_weight.h"

#include <cmath>
#include <utility>

#include "core/error.h"
#include "ops/matmul_int8.h"

namespace accent {

Int8Weight Int8Weight::quantize(const Tensor& weight, bool out_major) {
  ACCENT_CHECK(weight.dtype() == DType::F32 && weight.ndim() == 2, "int8 quantization takes a 2-D F32 weight, got ",
               shape_str(weight.shape()));
  Int8Weight w;
  w.out_major_ = out_major;
  const int64_t rows = weight.dim(0), cols = weight.dim(1);
  w.out_ = out_major ? rows : cols;
  w.in_ = out_major ? cols : rows;
  w.values_ = Tensor(DType::I8, weight.shape());
  w.scales_ = Tensor(DType::F32, {w.out_});
  auto* q = static_cast<int8_t*>(w.values_.data());
  if (out_major)
    quantize_rows_s8(weight.f32(), rows, cols, q, w.scales_.f32());
  else
    quantize_columns_s8(weight.f32(), rows, cols, q, w.scales_.f32());
  w.compute_sums();
  return w;
}

void Int8Weight::compute_sums() {
  sums_ = Tensor(DType::I32, {out_});
  int8_column_sums(static_cast<const int8_t*>(std::as_const(values_).data()), in_, out_, out_major_,
                   static_cast<int32_t*>(sums_.data()));
}

Int8Weight Int8Weight::from_tensors(Tensor values, Tensor scales, bool out_major, const std::string& name) {
  ACCENT_CHECK(values.dtype() == DType::I8 && values.ndim() == 2, name, ".weight: an int8 layer's weight must be a "
               "2-D I8 tensor, got ", dtype_name(values.dtype()), " ", shape_str(values.shape()));
  const int64_t out = out_major ? values.dim(0) : values.dim(1);
  ACCENT_CHECK(scales.dtype() == DType::F32 && scales.shape() == Shape{out}, name, ".weight_scale: expected F32 (",
               out, ") — one scale per output channel — got ", dtype_name(scales.dtype()), " ",
               shape_str(scales.shape()));
  const float* s = scales.f32();
  for (int64_t i = 0; i < out; ++i)
    ACCENT_CHECK(std::isfinite(s[i]) && s[i] > 0.0f, name, ".weight_scale[", i, "] is ", s[i],
                 "; a scale must be finite and positive (the file is corrupt)");
  Int8Weight w;
  w.out_major_ = out_major;
  w.out_ = out;
  w.in_ = out_major ? values.dim(1) : values.dim(0);
  w.values_ = std::move(values);
  w.scales_ = std::move(scales);
  w.compute_sums();
  return w;
}

Tensor Int8Weight::dequantized() const {
  Tensor w(DType::F32, values_.shape());
  const auto* q = static_cast<const int8_t*>(values_.data());
  const float* s = scales_.f32();
  float* out = w.f32();
  const int64_t rows = values_.dim(0), cols = values_.dim(1);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t c = 0; c < cols; ++c) out[r * cols + c] = static_cast<float>(q[r * cols + c]) * s[out_major_ ? r : c];
  return w;
}

GemmShape Int8Weight::shape(int64_t rows) const {
  GemmShape s;
  s.M = rows, s.N = out_, s.K = in_, s.trans_b = out_major_;  // (out, in) = (N, K) is Bᵀ; (in, out) = (K, N) is B
  return s;
}

Int8Operand Int8Weight::operand(const OpContext& ctx) const {
  const auto* values = static_cast<const int8_t*>(values_.data());
  if (ctx.backend == Backend::Cpu && packed_.empty()) packed_ = pack_weight_s8(values, in_, out_, out_major_);
  return Int8Operand{values, scales_.f32(), static_cast<const int32_t*>(sums_.data()),
                     ctx.backend == Backend::Cpu ? &packed_ : nullptr};
}

void Int8Weight::forward(const OpContext& ctx, const float* x, const float* bias, float* y, int64_t rows) const {
  gemm_int8_dynamic(ctx, shape(rows), x, operand(ctx), bias, y);
}

void Int8Weight::forward_quantized(const OpContext& ctx, QuantizedRows x, const float* bias, float* y,
                                   int64_t rows) const {
  ACCENT_CHECK(quantized_inputs(ctx), "int8: activations quantized ahead are multiplied on the Cpu backend only");
  cpu::gemm_int8_quantized(shape(rows), x, operand(ctx), bias, y);
}

void Int8Weight::forward_act_quantized(const OpContext& ctx, QuantizedRows x, const float* bias, Activation act,
                                       uint8_t* q, float* q_scale, int64_t rows) const {
  ACCENT_CHECK(quantized_inputs(ctx), "int8: activations quantized ahead are multiplied on the Cpu backend only");
  cpu::gemm_int8_act_quantized(shape(rows), x, operand(ctx), bias, act, q, q_scale);
}

Int8RowsRoom int8_rows_room(SharedSlot slot, int64_t rows, int64_t cols) {
  const int64_t value_bytes = (rows * cols + 63) / 64 * 64;
  uint8_t* base = shared_scratch(slot).u8(value_bytes + rows * static_cast<int64_t>(sizeof(float)));
  return Int8RowsRoom{base, reinterpret_cast<float*>(base + value_bytes)};
}

QuantizedRows quantize_ahead(const float* x, int64_t rows, int64_t cols, SharedSlot slot) {
  const Int8RowsRoom room = int8_rows_room(slot, rows, cols);
  quantize_rows_u8(x, rows, cols, room.values, room.scale);
  return room.view();
}

}  // namespace accent
