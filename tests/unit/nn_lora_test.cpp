// nn/lora.h on its own: a LoRA adapter on a Linear. Inference output against the formula computed by hand
// (W x + b + scale·B·A·x, scale alpha/r and alpha/√r), Kaiming-uniform bounds of A and B = 0 at init, and — with
// dropout active — every gradient (A, B, bias, input; frozen weight untouched) against central finite differences
// of the same counter-based dropout mask (the Rng is reset to the same position for every evaluation).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "nn/freeze.h"
#include "nn/linear.h"
#include "nn/lora.h"

using namespace accent;

namespace {

const OpContext kCtx{Backend::Cpu, Precision::F32};

void fill(Parameter& p, uint64_t seed, float scale) {
  Rng r(seed);
  for (int64_t i = 0; i < p.value.numel(); ++i) p.value.f32()[i] = scale * (2.0f * r.uniform() - 1.0f);
}

struct Rig {
  Linear lin{"m", 6, 5};
  LoraAdapter ad;
  std::vector<float> x;
  static constexpr int64_t rows = 7;
  explicit Rig(LoraHyper h) : ad("m", 6, 5, h) {
    fill(lin.weight, 1, 0.5f);
    fill(lin.bias, 2, 0.5f);
    ad.init(Rng(3));
    fill(ad.B, 4, 0.5f);
    lin.lora = &ad;
    Rng r(5);
    for (int64_t i = 0; i < rows * 6; ++i) x.push_back(2.0f * r.uniform() - 1.0f);
  }
  // Σ y·g with a fixed dropout stream (rng seed 9 from counter 0 every time).
  double objective(bool train) {
    Rng rng(9);
    ad.set_dropout_rng(train ? &rng : nullptr);
    std::vector<float> y(rows * 5);
    lin.forward(kCtx, x.data(), y.data(), rows);
    double s = 0;
    for (int64_t i = 0; i < rows * 5; ++i) s += y[i] * (0.1 * (i % 7) - 0.3);
    return s;
  }
};

}  // namespace

TEST(Lora, InferenceMatchesFormulaAndInit) {
  for (bool rs : {false, true}) {
    LoraHyper h;
    h.r = 4, h.alpha = 8, h.use_rslora = rs;
    Rig rig(h);
    EXPECT_FLOAT_EQ(rig.ad.scale(), rs ? 4.0f : 2.0f);
    std::vector<float> y(Rig::rows * 5);
    rig.ad.set_dropout_rng(nullptr);
    rig.lin.forward(kCtx, rig.x.data(), y.data(), Rig::rows);
    const float* W = rig.lin.weight.value.f32();
    const float* b = rig.lin.bias.value.f32();
    const float* A = rig.ad.A.value.f32();
    const float* B = rig.ad.B.value.f32();
    for (int64_t n = 0; n < Rig::rows; ++n)
      for (int64_t o = 0; o < 5; ++o) {
        double want = b[o];
        for (int64_t i = 0; i < 6; ++i) want += W[o * 6 + i] * rig.x[n * 6 + i];
        for (int64_t k = 0; k < 4; ++k) {
          double ax = 0;
          for (int64_t i = 0; i < 6; ++i) ax += A[k * 6 + i] * rig.x[n * 6 + i];
          want += rig.ad.scale() * B[o * 4 + k] * ax;
        }
        EXPECT_NEAR(y[n * 5 + o], want, 1e-5);
      }
  }
  LoraAdapter fresh("m", 100, 3, LoraHyper{});
  fresh.init(Rng(1));
  float amax = 0;
  for (int64_t i = 0; i < fresh.A.value.numel(); ++i) amax = std::max(amax, std::fabs(fresh.A.value.f32()[i]));
  EXPECT_LE(amax, 0.1f);   // U(−1/√100, 1/√100)
  EXPECT_GE(amax, 0.08f);  // and actually spread over it
  for (int64_t i = 0; i < fresh.B.value.numel(); ++i) EXPECT_EQ(fresh.B.value.f32()[i], 0.0f);
}

TEST(Lora, DropoutGradientsMatchFiniteDifferences) {
  LoraHyper h;
  h.r = 3, h.alpha = 6, h.dropout = 0.5;
  Rig rig(h);
  freeze(rig.lin.weight);  // as LoRA training: frozen weight, trainable bias
  EXPECT_NE(rig.objective(true), rig.objective(false)) << "dropout is not active";
  // Analytic gradients.
  Rng rng(9);
  rig.ad.set_dropout_rng(&rng);
  std::vector<float> y(Rig::rows * 5), dy(Rig::rows * 5), dx(Rig::rows * 6);
  rig.lin.forward(kCtx, rig.x.data(), y.data(), Rig::rows);
  for (int64_t i = 0; i < Rig::rows * 5; ++i) dy[i] = static_cast<float>(0.1 * (i % 7) - 0.3);
  rig.lin.backward(kCtx, rig.x.data(), dy.data(), dx.data(), Rig::rows);
  EXPECT_EQ(rig.lin.weight.grad.numel(), 0);  // no buffer for the frozen weight
  auto check = [&](float* v, const float* g, int64_t n, const char* what) {
    for (int64_t i = 0; i < n; ++i) {
      const float keep = v[i], eps = 1e-2f;
      v[i] = keep + eps;
      const double up = rig.objective(true);
      v[i] = keep - eps;
      const double down = rig.objective(true);
      v[i] = keep;
      EXPECT_NEAR(g[i], (up - down) / (2 * eps), 2e-3) << what << "[" << i << "]";
    }
  };
  check(rig.ad.A.value.f32(), rig.ad.A.grad.f32(), rig.ad.A.value.numel(), "dA");
  check(rig.ad.B.value.f32(), rig.ad.B.grad.f32(), rig.ad.B.value.numel(), "dB");
  check(rig.lin.bias.value.f32(), rig.lin.bias.grad.f32(), 5, "dbias");
  check(rig.x.data(), dx.data(), Rig::rows * 6, "dx");
}
