// Mixed precision (Precision::BF16) in ops: precision selection, the bf16 conversion, oneDNN's bf16 matmul against
// the bf16 ref oracle (same rounded operands, fp32 triple loop), and non-matmul ops unchanged under BF16.
// Tolerances are declared next to each check.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <string>

#include "core/dtype.h"
#include "core/error.h"
#include "ops/activation.h"
#include "ops/add_layernorm.h"
#include "ops/attention_softmax.h"
#include "ops/matmul.h"
#include "ops/precision.h"
#include "ops_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

const OpContext kRefF32{Backend::Ref, Precision::F32};
const OpContext kRefBf16{Backend::Ref, Precision::BF16};
const OpContext kCpuBf16{Backend::Cpu, Precision::BF16};

// cpu-bf16 vs ref-bf16: identical bf16 operands, fp32 accumulation in both; only the summation order differs.
constexpr double kBf16VsBf16RefTolerance = 1e-5;
// cpu-bf16 vs ref-f32: operand rounding (2^-9 relative each) dominates; random N(0,1) data, K ≤ 768.
constexpr double kBf16VsF32Tolerance = 1e-2;

struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* value) : name(n) { setenv(n, value, 1); }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};

}  // namespace

TEST(Precision, ResolveNamesAutoAndEnvironmentOverride) {
  unsetenv("ACCENT_PRECISION");
  EXPECT_EQ(resolve_precision("fp32"), Precision::F32);
  EXPECT_EQ(resolve_precision("f32"), Precision::F32);
  EXPECT_EQ(resolve_precision("bf16"), Precision::BF16);
  EXPECT_EQ(resolve_precision("auto"), cpu_has_fast_bf16() ? Precision::BF16 : Precision::F32);
  EXPECT_EQ(cpu_has_fast_bf16(), cpu_has_amx_bf16() || cpu_has_avx512_bf16());
  EXPECT_THROW(resolve_precision("fp16"), Error);
  {
    ScopedEnv env("ACCENT_PRECISION", "fp32");  // what a CPU without bf16 units gets from auto
    EXPECT_EQ(resolve_precision("bf16"), Precision::F32);
    EXPECT_EQ(resolve_precision("auto"), Precision::F32);
  }
  {
    ScopedEnv env("ACCENT_PRECISION", "half");
    try {
      resolve_precision("auto");
      FAIL() << "expected an error";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find("ACCENT_PRECISION"), std::string::npos) << e.what();
    }
  }
}

TEST(Precision, DefaultPrecisionAndThreads) {
  EXPECT_EQ(OpContext{}.precision, Precision::F32);  // nothing set it: models are fp32 unless asked
  set_default_precision(Precision::BF16);
  EXPECT_EQ(OpContext{}.precision, Precision::BF16);
  set_default_precision(Precision::F32);
  EXPECT_EQ(OpContext{}.precision, Precision::F32);
  EXPECT_GE(physical_core_count(), 1);
}

TEST(Precision, VectorConversionMatchesScalarRoundToNearestEven) {
  auto x = random_vector(100003, 7, 3.0f);
  const float specials[] = {0.0f, -0.0f, 1.0f, std::numeric_limits<float>::infinity(),
                            -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::quiet_NaN(),
                            std::numeric_limits<float>::denorm_min(), 3.4e38f,
                            // ties: 1 + 2^-8 rounds down to even (1.0), 1 + 3·2^-8 rounds up
                            1.00390625f, 1.01171875f};
  for (float f : specials) x.push_back(f);
  std::vector<uint16_t> fast(x.size());
  convert_f32_to_bf16(x.data(), fast.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(fast[i], f32_to_bf16(x[i])) << "at " << i << " value " << x[i];
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.00390625f)), 1.0f);
  EXPECT_EQ(bf16_to_f32(f32_to_bf16(1.01171875f)), 1.015625f);
}

TEST(Precision, CpuBf16GemmMatchesBf16RefAndReallyRounds) {
  struct Case { int64_t batch, M, N, K; };
  for (Case c : {Case{1, 37, 29, 53}, Case{1, 256, 96, 768}, Case{6, 17, 17, 8}, Case{4, 33, 16, 33}}) {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int acc = 0; acc < 2; ++acc)
          for (int with_bias = 0; with_bias < 2; ++with_bias) {
            const GemmShape s{c.batch, c.M, c.N, c.K, ta == 1, tb == 1};
            auto A = random_vector(c.batch * c.M * c.K, 1), B = random_vector(c.batch * c.K * c.N, 2);
            auto bias = random_vector(c.N, 3);
            const int64_t n = c.batch * c.M * c.N;
            const auto init = random_vector(n, 4);
            auto fast = init, ref16 = init, ref32 = init;
            const float* b = with_bias ? bias.data() : nullptr;
            gemm(kCpuBf16, s, A.data(), B.data(), b, fast.data(), acc == 1);
            gemm(kRefBf16, s, A.data(), B.data(), b, ref16.data(), acc == 1);
            gemm(kRefF32, s, A.data(), B.data(), b, ref32.data(), acc == 1);
            const std::string what = "M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) +
                                     " K=" + std::to_string(c.K) + " ta=" + std::to_string(ta) +
                                     " tb=" + std::to_string(tb) + " acc=" + std::to_string(acc);
            EXPECT_LE(relative_error(fast, ref16), kBf16VsBf16RefTolerance) << what;
            const double vs32 = relative_error(fast, ref32);
            EXPECT_LE(vs32, kBf16VsF32Tolerance) << what;
            EXPECT_GT(vs32, 1e-6) << what << ": the bf16 path did not round its operands";
          }
  }
}

TEST(Precision, PreconvertedWeightsGiveTheSameProduct) {
  // Linear's pattern: y = x·Wᵀ with W already bf16, and dx = dy·W.
  const int64_t rows = 70, in = 48, out = 40;
  auto x = random_vector(rows * in, 11), w = random_vector(out * in, 12), bias = random_vector(out, 13);
  std::vector<uint16_t> w16(w.size());
  convert_f32_to_bf16(w.data(), w16.data(), static_cast<int64_t>(w.size()));
  for (const OpContext& ctx : {kCpuBf16, kRefBf16}) {
    GemmShape fwd;
    fwd.M = rows, fwd.N = out, fwd.K = in, fwd.trans_b = true;
    std::vector<float> y1(rows * out), y2(rows * out);
    gemm(ctx, fwd, x.data(), w.data(), bias.data(), y1.data(), false);
    gemm_bf16_weights(ctx, fwd, x.data(), w16.data(), bias.data(), y2.data(), false);
    EXPECT_LE(relative_error(y2, y1), kBf16VsBf16RefTolerance) << backend_name(ctx.backend);
    GemmShape bwd;
    bwd.M = rows, bwd.N = in, bwd.K = out;
    std::vector<float> dx1(rows * in, 1.0f), dx2(rows * in, 1.0f);
    gemm(ctx, bwd, y1.data(), w.data(), nullptr, dx1.data(), true);
    gemm_bf16_weights(ctx, bwd, y1.data(), w16.data(), nullptr, dx2.data(), true);
    EXPECT_LE(relative_error(dx2, dx1), kBf16VsBf16RefTolerance) << backend_name(ctx.backend);
  }
  GemmShape fwd;
  fwd.M = 2, fwd.N = out, fwd.K = in, fwd.trans_b = true;
  std::vector<float> y(2 * out);
  EXPECT_THROW(gemm_bf16_weights(OpContext{Backend::Cpu, Precision::F32}, fwd, x.data(), w16.data(), nullptr,
                                 y.data(), false),
               Error);
}

TEST(Precision, OneDnnUsesAnOptimisedBf16KernelForBertShapes) {
  if (!cpu_has_fast_bf16()) GTEST_SKIP() << "no AMX/AVX512-BF16: oneDNN may only have a reference bf16 matmul";
  for (GemmShape s : {GemmShape{1, 256, 768, 768, false, true}, GemmShape{1, 768, 768, 256, true, false},
                      GemmShape{1, 256, 768, 768, false, false}, GemmShape{24, 128, 128, 64, false, true},
                      GemmShape{24, 128, 64, 128, true, false}, GemmShape{24, 128, 64, 128, false, false}}) {
    const std::string impl = cpu::gemm_impl_name(s, false, s.trans_a, /*bf16=*/true);
    EXPECT_EQ(impl.find("ref"), std::string::npos) << "M=" << s.M << " N=" << s.N << " K=" << s.K << ": " << impl;
  }
}

TEST(Precision, NonMatmulOpsComputeInF32UnderBf16) {
  auto x = random_vector(4099, 21);
  std::vector<float> y32(x.size()), y16(x.size());
  activation_forward(OpContext{Backend::Cpu, Precision::F32}, Activation::Gelu, x.data(), y32.data(),
                     static_cast<int64_t>(x.size()));
  activation_forward(kCpuBf16, Activation::Gelu, x.data(), y16.data(), static_cast<int64_t>(x.size()));
  for (size_t i = 0; i < x.size(); ++i) ASSERT_EQ(y16[i], y32[i]) << "at " << i;
}

TEST(Precision, FusedNonMatmulOpsComputeInF32UnderBf16) {
  // The fused attention softmax + dropout and residual + LayerNorm kernels ignore the precision: bit-identical.
  const OpContext f32{Backend::Cpu, Precision::F32};
  AttentionDims d{2, 2, 9, 9};
  const int64_t np = d.B * d.NH * d.Tq * d.Tk;
  auto s = random_vector(np, 22, 3.0f), dq = random_vector(np, 23);
  Rng rng(4, 0);
  const DropoutDraw draw = dropout_draw(0.1f, &rng, np);
  std::vector<float> p32(np), q32(np), p16(np), q16(np), ds32(np), ds16(np);
  attention_softmax_dropout_forward(f32, s.data(), nullptr, p32.data(), q32.data(), d, 3.0f, draw);
  attention_softmax_dropout_forward(kCpuBf16, s.data(), nullptr, p16.data(), q16.data(), d, 3.0f, draw);
  EXPECT_EQ(p32, p16);
  EXPECT_EQ(q32, q16);
  attention_softmax_dropout_backward(f32, p32.data(), dq.data(), ds32.data(), d, 3.0f, draw);
  attention_softmax_dropout_backward(kCpuBf16, p32.data(), dq.data(), ds16.data(), d, 3.0f, draw);
  EXPECT_EQ(ds32, ds16);

  const int64_t rows = 5, C = 70, n = rows * C;
  auto br = random_vector(n, 24), res = random_vector(n, 25), w = random_vector(C, 26), b = random_vector(C, 27);
  std::vector<float> sum32(n), y32(n), sum16(n), y16(n), m(rows), r(rows);
  add_layernorm_forward(f32, br.data(), res.data(), draw, w.data(), b.data(), sum32.data(), y32.data(), m.data(),
                        r.data(), rows, C, 1e-12f);
  add_layernorm_forward(kCpuBf16, br.data(), res.data(), draw, w.data(), b.data(), sum16.data(), y16.data(), m.data(),
                        r.data(), rows, C, 1e-12f);
  EXPECT_EQ(sum32, sum16);
  EXPECT_EQ(y32, y16);
}
