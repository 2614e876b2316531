#include "ops/activation.h"

#include <cmath>

#include "core/error.h"
#include "ops/gelu_fast.h"

namespace accent {

namespace {

constexpr float kSqrtHalf = 0.70710678118654752440f;    // 1/√2
constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1/√(2π)
constexpr float kSqrt2OverPi = 0.79788456080286535588f;  // √(2/π)
constexpr float kGeluCubic = 0.044715f;

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }

inline float forward_one(Activation act, float x) {
  switch (act) {
    case Activation::Gelu: return x * 0.5f * (1.0f + std::erf(x * kSqrtHalf));
    case Activation::GeluTanh: return 0.5f * x * (1.0f + std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x)));
    case Activation::QuickGelu: return x * sigmoid(1.702f * x);
    case Activation::Relu: return x > 0.0f ? x : 0.0f;
    case Activation::Silu: return x * sigmoid(x);
    case Activation::Tanh: return std::tanh(x);
  }
  return 0.0f;
}

inline float derivative_one(Activation act, float x) {
  switch (act) {
    case Activation::Gelu:
      return 0.5f * (1.0f + std::erf(x * kSqrtHalf)) + x * kInvSqrt2Pi * std::exp(-0.5f * x * x);
    case Activation::GeluTanh: {
      const float t = std::tanh(kSqrt2OverPi * (x + kGeluCubic * x * x * x));
      return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * kSqrt2OverPi * (1.0f + 3.0f * kGeluCubic * x * x);
    }
    case Activation::QuickGelu: {
      const float s = sigmoid(1.702f * x);
      return s + 1.702f * x * s * (1.0f - s);
    }
    case Activation::Relu: return x > 0.0f ? 1.0f : 0.0f;
    case Activation::Silu: {
      const float s = sigmoid(x);
      return s + x * s * (1.0f - s);
    }
    case Activation::Tanh: {
      const float t = std::tanh(x);
      return 1.0f - t * t;
    }
  }
  return 0.0f;
}

}  // namespace

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
  if (ctx.backend == Backend::Ref) {
    for (int64_t i = 0; i < n; ++i) y[i] = forward_one(act, x[i]);
    return;
  }
  if (act == Activation::Gelu) {  // the BERT activation: vectorised erf (ops/gelu_fast.h)
#pragma omp parallel for simd schedule(static)
    for (int64_t i = 0; i < n; ++i) y[i] = fast::gelu(x[i]);
    return;
  }
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) y[i] = forward_one(act, x[i]);
}

void activation_backward(const OpContext& ctx, Activation act, const float* x, const float* dy, float* dx, int64_t n) {
  check_op_context(ctx, "activation_backward");
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
