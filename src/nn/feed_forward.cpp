#include "nn/feed_forward.h"

#include "ops/tensor_ops.h"

namespace accent {

FeedForward::FeedForward(const std::string& in_name, const std::string& out_name, int64_t hidden,
                         int64_t intermediate, Activation act)
    : dense_in(in_name, hidden, intermediate), dense_out(out_name, intermediate, hidden), I_(intermediate), act_(act) {}

void FeedForward::forward(const OpContext& ctx, const float* x, float* y, int64_t rows) {
  if (dense_in.takes_quantized_input(ctx) && dense_out.takes_quantized_input(ctx)) {
    // int8 inference: x quantized once; act(W1·x + b1) goes from W1's int32 products straight to W2's u8 input,
    // row by row in cache (ops/matmul_int8.h gemm_int8_act_quantized) — the same numbers as the three steps below.
    const QuantizedRows xq = quantize_ahead(x, rows, dense_in.in_features(), SharedSlot::Int8Input);
    const Int8RowsRoom h = int8_rows_room(SharedSlot::Int8Hidden, rows, I_);
    dense_in.forward_act_quantized(ctx, xq, act_, h.values, h.scale, rows);
    dense_out.forward_quantized(ctx, h.view(), y, rows);
    return;
  }
  float* pre = pre_.f32(rows * I_);
  float* h = shared_scratch(SharedSlot::FeedForwardHidden).f32(rows * I_);
  dense_in.forward(ctx, x, pre, rows);
  activation_forward(ctx, act_, pre, h, rows * I_);
  dense_out.forward(ctx, h, y, rows);
}

void FeedForward::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t rows,
                           bool accumulate_dx) {
  float* pre = pre_.f32(rows * I_);
  float* h = shared_scratch(SharedSlot::FeedForwardHidden).f32(rows * I_);
  // Recompute h = act(pre) (same op, same bits as forward) and, in the same pass, act'(pre) over the dead pre.
  activation_forward_with_derivative(ctx, act_, pre, h, /*dydx=*/pre, rows * I_);
  dense_out.backward(ctx, h, dy, /*dx=*/h, rows);  // dW2 uses h, then dh overwrites it
  multiply_inplace(ctx, h, pre, rows * I_);         // dpre = dh·act'(pre), over pre
  dense_in.backward(ctx, x, pre, dx, rows, accumulate_dx);
}

void FeedForward::collect(ParameterList& out) {
  dense_in.collect(out);
  dense_out.collect(out);
}

}  // namespace accent
