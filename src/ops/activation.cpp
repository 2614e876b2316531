#include "ops/activation.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/cuda/kernels.h"
#include "ops/activation_math.h"
#include "ops/gelu_fast.h"

namespace accent {

using activation_math::derivative_one;
using activation_math::forward_one;

Activation activation_from_name(const std::string& name) {
  if (name == "gelu") return Activation::Gelu;
  if (name == "gelu_new" || name == "gelu_pytorch_tanh" || name == "gelu_fast") return Activation::GeluTanh;
  if (name == "quick_gelu") return Activation::QuickGelu;
  if (name == "relu") return Activation::Relu;
  if (name == "silu" || name == "swish") return Activation::Silu;
  if (name == "tanh") return Activation::Tanh;
  fail("activation \"", name,
       "\" is not supported (supported: gelu, gelu_new, gelu_pytorch_tanh, gelu_fast, quick_gelu, relu, silu, swish, "
       "tanh)");
}

const char* activation_name(Activation act) {
  switch (act) {
    case Activation::Gelu: return "gelu";
    case Activation::GeluTanh: return "gelu_new";
    case Activation::QuickGelu: return "quick_gelu";
    case Activation::Relu: return "relu";
    case Activation::Silu: return "silu";
    case Activation::Tanh: return "tanh";
  }
  return "?";
}

void activation_forward(const OpContext& ctx, Activation act, const float* x, float* y, int64_t n) {
  check_op_context(ctx, "activation_forward");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(activation_forward, act, x, y, n);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) y[i] = forward_one(act, x[i]);
    return;
  }
  constexpr int64_t kBlock = 4096;  // values per parallel work item
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < n; begin += kBlock)
    activation_forward_span_cpu(act, x + begin, y + begin, std::min(kBlock, n - begin));
}

void activation_forward_span_cpu(Activation act, const float* x, float* y, int64_t n) {
  if (act == Activation::Gelu) {  // the BERT activation: vectorised erf (ops/gelu_fast.h)
#pragma omp simd
    for (int64_t i = 0; i < n; ++i) y[i] = fast::gelu(x[i]);
    return;
  }
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) y[i] = forward_one(act, x[i]);
}

void activation_backward(const OpContext& ctx, Activation act, const float* x, const float* dy, float* dx, int64_t n) {
  check_op_context(ctx, "activation_backward");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(activation_backward, act, x, dy, dx, n);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * derivative_one(act, x[i]);
    return;
  }
  if (act == Activation::Gelu) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * fast::gelu_derivative(x[i]);
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) dx[i] = dy[i] * derivative_one(act, x[i]);
}

}  // namespace accent

namespace accent {

void activation_forward_with_derivative(const OpContext& ctx, Activation act, const float* x, float* y, float* dydx,
                                        int64_t n) {
  check_op_context(ctx, "activation_forward_with_derivative");
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(activation_forward_with_derivative, act, x, y, dydx, n);
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      y[i] = forward_one(act, v);
      dydx[i] = derivative_one(act, v);
    }
    return;
  }
  if (act == Activation::Gelu) {
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) {
      const float v = x[i];
      float cdf, gauss;
      fast::normal_cdf_and_gauss(v, &cdf, &gauss);
      y[i] = v * cdf;                                   // = fast::gelu(v)
      dydx[i] = cdf + v * gauss * 0.39894228040143267794f;  // = fast::gelu_derivative(v)
    }
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    const float v = x[i];
    y[i] = forward_one(act, v);
    dydx[i] = derivative_one(act, v);
  }
}

}  // namespace accent
