// ops/activation.h — elementwise activations selected by config `hidden_act` (transformers/activations.py).
//
// Contract, y = f(x) elementwise; backward dx = dy·f'(x) from the saved input x (overwrite; dx may alias dy):
//   gelu        x·½(1 + erf(x/√2))                          f' = Φ(x) + x·φ(x)
//   gelu_new    ½x(1 + tanh(√(2/π)(x + 0.044715x³)))       (also gelu_pytorch_tanh, gelu_fast)
//   quick_gelu  x·σ(1.702x)
//   relu        max(x, 0)                                   f'(0) = 0 as PyTorch
//   silu/swish  x·σ(x)
//   tanh        tanh(x)                                     (BERT pooler)
#pragma once
#include <cstdint>
#include <string>

#include "ops/backend.h"

namespace accent {

enum class Activation : uint8_t { Gelu, GeluTanh, QuickGelu, Relu, Silu, Tanh };

// Maps a config string ("gelu", "gelu_new", "relu", ...) to an Activation; throws naming the value otherwise.
Activation activation_from_name(const std::string& name);
const char* activation_name(Activation act);

void activation_forward(const OpContext& ctx, Activation act, const float* x, float* y, int64_t n);
// y = f(x) over n values on the calling thread, with the cpu backend's arithmetic (the vectorised erf GELU of
// ops/gelu_fast.h, else the shared formulas): what activation_forward runs on each block, for fused cpu kernels
// that must give its numbers bit for bit (ops/matmul_int8.h gemm_int8_act_quantized).
void activation_forward_span_cpu(Activation act, const float* x, float* y, int64_t n);
void activation_backward(const OpContext& ctx, Activation act, const float* x, const float* dy, float* dx, int64_t n);
// y = f(x) and dydx = f'(x) in one pass (GELU evaluates Φ and e^{−x²/2} once for both). dydx may alias x (the
// input is dead once both are known); y must not. For a backward that recomputes the activation it dropped:
// afterwards dx = dy·dydx (multiply_inplace) equals activation_backward(x, dy) bit for bit.
void activation_forward_with_derivative(const OpContext& ctx, Activation act, const float* x, float* y, float* dydx,
                                        int64_t n);

}  // namespace accent
