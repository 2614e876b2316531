// ops/activation_math.h — one element of each activation and its derivative (the formulas of ops/activation.h),
// shared by the ref and generic cpu paths and the CUDA kernels (ACCENT_HD), so every backend evaluates the same
// expression. erff/tanhf/expf are the float functions std::erf/std::tanh/std::exp call for a float argument.
// Internal to ops/.
#pragma once
#include <cmath>

#include "core/host_device.h"
#include "ops/activation.h"

namespace accent::activation_math {

inline constexpr float kSqrtHalf = 0.70710678118654752440f;    // 1/√2
inline constexpr float kInvSqrt2Pi = 0.39894228040143267794f;  // 1/√(2π)
inline constexpr float kSqrt2OverPi = 0.79788456080286535588f;  // √(2/π)
inline constexpr float kGeluCubic = 0.044715f;

ACCENT_HD inline float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

ACCENT_HD inline float forward_one(Activation act, float x) {
  switch (act) {
    case Activation::Gelu: return x * 0.5f * (1.0f + erff(x * kSqrtHalf));
    case Activation::GeluTanh: return 0.5f * x * (1.0f + tanhf(kSqrt2OverPi * (x + kGeluCubic * x * x * x)));
    case Activation::QuickGelu: return x * sigmoid(1.702f * x);
    case Activation::Relu: return x > 0.0f ? x : 0.0f;
    case Activation::Silu: return x * sigmoid(x);
    case Activation::Tanh: return tanhf(x);
  }
  return 0.0f;
}

ACCENT_HD inline float derivative_one(Activation act, float x) {
  switch (act) {
    case Activation::Gelu:
      return 0.5f * (1.0f + erff(x * kSqrtHalf)) + x * kInvSqrt2Pi * expf(-0.5f * x * x);
    case Activation::GeluTanh: {
      const float t = tanhf(kSqrt2OverPi * (x + kGeluCubic * x * x * x));
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
      const float t = tanhf(x);
      return 1.0f - t * t;
    }
  }
  return 0.0f;
}

}  // namespace accent::activation_math
