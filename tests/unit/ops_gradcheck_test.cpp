// Finite-difference checks of every `ref` backward in ops/ (the oracles the fast paths are tested against).
// Loss = Σ w·y with random w, evaluated in double from the fp32 forward; central differences with a step large
// enough that fp32 rounding of the forward stays far below the tolerance.
#include <gtest/gtest.h>

#include "core/error.h"
#include "ops/activation.h"
#include "ops/add_layernorm.h"
#include "ops/attention_softmax.h"
#include "ops/dropout.h"
#include "ops/embedding.h"
#include "ops/layernorm.h"
#include "ops/loss.h"
#include "ops/matmul.h"
#include "ops/tensor_ops.h"
#include "ops_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {
const OpContext kRef{Backend::Ref, Precision::F32};
constexpr double kTol = 3e-3;

double rel(const std::vector<float>& analytic, const std::vector<double>& numeric) {
  return relative_error(analytic.data(), numeric.data(), static_cast<int64_t>(analytic.size()));
}
}  // namespace

TEST(OpsGradcheck, LinearInputWeightBias) {
  const int64_t rows = 5, in = 7, out = 4;
  auto x = random_vector(rows * in, 1), W = random_vector(out * in, 2), b = random_vector(out, 3);
  auto w = random_vector(rows * out, 4);
  std::vector<float> y(rows * out);
  auto loss = [&] {
    linear_forward(kRef, x.data(), W.data(), b.data(), y.data(), rows, in, out);
    return weighted_sum(y, w);
  };
  std::vector<float> dx(rows * in), dW(out * in, 0.0f), db(out, 0.0f);
  linear_backward_input(kRef, w.data(), W.data(), dx.data(), rows, in, out);
  linear_backward_weight(kRef, x.data(), w.data(), dW.data(), db.data(), rows, in, out);
  EXPECT_LT(rel(dx, numeric_gradient(x, loss)), kTol);
  EXPECT_LT(rel(dW, numeric_gradient(W, loss)), kTol);
  EXPECT_LT(rel(db, numeric_gradient(b, loss)), kTol);
  // Parameter gradients accumulate: a second backward doubles them.
  auto dW2 = dW;
  linear_backward_weight(kRef, x.data(), w.data(), dW2.data(), nullptr, rows, in, out);
  for (size_t i = 0; i < dW.size(); ++i) EXPECT_NEAR(dW2[i], 2 * dW[i], 1e-5);
}

TEST(OpsGradcheck, BatchedGemmTransposesMatchNaiveDefinition) {
  // gemm's ref is itself the definition; check it against an independent index formula for all four transposes.
  const int64_t batch = 2, M = 3, N = 4, K = 5;
  for (int ta = 0; ta < 2; ++ta)
    for (int tb = 0; tb < 2; ++tb) {
      auto A = random_vector(batch * M * K, 10 + ta), B = random_vector(batch * K * N, 20 + tb);
      std::vector<float> C(batch * M * N, 1.0f);
      GemmShape s{batch, M, N, K, ta == 1, tb == 1};
      ref::gemm(s, A.data(), B.data(), nullptr, C.data(), true);
      for (int64_t bb = 0; bb < batch; ++bb)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = 0; n < N; ++n) {
            double e = 1.0;
            for (int64_t k = 0; k < K; ++k) {
              const double a = ta ? A[bb * M * K + k * M + m] : A[bb * M * K + m * K + k];
              const double bv = tb ? B[bb * K * N + n * K + k] : B[bb * K * N + k * N + n];
              e += a * bv;
            }
            EXPECT_NEAR(C[bb * M * N + m * N + n], e, 1e-5);
          }
    }
}

TEST(OpsGradcheck, LayerNorm) {
  const int64_t rows = 4, C = 9;
  auto x = random_vector(rows * C, 5), g = random_vector(C, 6), b = random_vector(C, 7), w = random_vector(rows * C, 8);
  std::vector<float> y(rows * C), mean(rows), rstd(rows);
  auto loss = [&] {
    layernorm_forward(kRef, x.data(), g.data(), b.data(), y.data(), mean.data(), rstd.data(), rows, C, 1e-5f);
    return weighted_sum(y, w);
  };
  loss();
  std::vector<float> dx(rows * C), dg(C, 0.0f), db(C, 0.0f);
  layernorm_backward(kRef, w.data(), x.data(), g.data(), mean.data(), rstd.data(), dx.data(), dg.data(), db.data(),
                     rows, C);
  EXPECT_LT(rel(dx, numeric_gradient(x, loss, 1e-3f)), kTol);
  EXPECT_LT(rel(dg, numeric_gradient(g, loss, 1e-3f)), kTol);
  EXPECT_LT(rel(db, numeric_gradient(b, loss, 1e-3f)), kTol);
}

TEST(OpsGradcheck, AttentionSoftmaxWithPaddingMask) {
  AttentionDims d{2, 3, 4, 5};
  const int64_t n = d.B * d.NH * d.Tq * d.Tk;
  auto s = random_vector(n, 9), w = random_vector(n, 10);
  const std::vector<int32_t> mask{1, 1, 1, 0, 0, 1, 1, 1, 1, 1};
  std::vector<float> mask_add(d.B * d.Tk), p(n);
  attention_additive_mask(mask.data(), mask_add.data(), d.B, d.Tk);
  const float scale = 2.0f;
  auto loss = [&] {
    attention_softmax_forward(kRef, s.data(), mask_add.data(), p.data(), d, scale);
    return weighted_sum(p, w);
  };
  loss();
  for (int64_t r = 0; r < d.NH * d.Tq; ++r) {  // batch 0: padded keys get exactly zero probability
    EXPECT_EQ(p[r * d.Tk + 3], 0.0f);
    EXPECT_EQ(p[r * d.Tk + 4], 0.0f);
  }
  std::vector<float> ds(n);
  attention_softmax_backward(kRef, p.data(), w.data(), ds.data(), d, scale);
  EXPECT_LT(rel(ds, numeric_gradient(s, loss, 1e-3f)), kTol);
}

TEST(OpsGradcheck, AttentionSoftmaxWithDropoutFixedDraw) {
  // Loss = Σ w·P' with P' = dropout(softmax(...)) at a fixed draw: the fused backward regenerates the mask.
  AttentionDims d{1, 2, 3, 6};
  const int64_t n = d.B * d.NH * d.Tq * d.Tk;
  auto s = random_vector(n, 30), w = random_vector(n, 31);
  std::vector<float> p(n), dropped(n);
  Rng rng(12, 40);
  const DropoutDraw draw = dropout_draw(0.3f, &rng, n);
  auto loss = [&] {
    attention_softmax_dropout_forward(kRef, s.data(), nullptr, p.data(), dropped.data(), d, 1.5f, draw);
    return weighted_sum(dropped, w);
  };
  loss();
  int64_t zeros = 0;
  for (float v : dropped) zeros += v == 0.0f;
  EXPECT_GT(zeros, 0);  // the draw really drops something
  std::vector<float> ds(n);
  attention_softmax_dropout_backward(kRef, p.data(), w.data(), ds.data(), d, 1.5f, draw);
  EXPECT_LT(rel(ds, numeric_gradient(s, loss, 1e-3f)), kTol);
}

TEST(OpsGradcheck, AddLayerNormWithDropout) {
  // Loss = Σ w·LN(dropout(branch) + residual): gradients for branch, residual (dsum), gain and bias.
  const int64_t rows = 3, C = 8, n = rows * C;
  auto br = random_vector(n, 32), res = random_vector(n, 33), g = random_vector(C, 34), b = random_vector(C, 35);
  auto w = random_vector(n, 36);
  std::vector<float> sum(n), y(n), mean(rows), rstd(rows);
  Rng rng(3, 0);
  const DropoutDraw draw = dropout_draw(0.25f, &rng, n);
  auto loss = [&] {
    add_layernorm_forward(kRef, br.data(), res.data(), draw, g.data(), b.data(), sum.data(), y.data(), mean.data(),
                          rstd.data(), rows, C, 1e-5f);
    return weighted_sum(y, w);
  };
  loss();
  std::vector<float> dsum(n), dbr(n), dg(C, 0.0f), db(C, 0.0f);
  add_layernorm_backward(kRef, w.data(), sum.data(), g.data(), mean.data(), rstd.data(), draw, dsum.data(), dbr.data(),
                         dg.data(), db.data(), rows, C);
  EXPECT_LT(rel(dbr, numeric_gradient(br, loss, 1e-3f)), kTol);
  EXPECT_LT(rel(dsum, numeric_gradient(res, loss, 1e-3f)), kTol);
  EXPECT_LT(rel(dg, numeric_gradient(g, loss, 1e-3f)), kTol);
  EXPECT_LT(rel(db, numeric_gradient(b, loss, 1e-3f)), kTol);
}

TEST(OpsGradcheck, FullyMaskedRowIsUniformLikePyTorch) {
  AttentionDims d{1, 1, 1, 4};
  std::vector<float> s{0.3f, -1.0f, 2.0f, 0.5f}, p(4);
  const std::vector<int32_t> mask{0, 0, 0, 0};
  std::vector<float> mask_add(4);
  attention_additive_mask(mask.data(), mask_add.data(), 1, 4);
  attention_softmax_forward(kRef, s.data(), mask_add.data(), p.data(), d, 1.0f);
  for (float v : p) EXPECT_FLOAT_EQ(v, 0.25f);
}

TEST(OpsGradcheck, Activations) {
  for (Activation act : {Activation::Gelu, Activation::GeluTanh, Activation::QuickGelu, Activation::Relu,
                         Activation::Silu, Activation::Tanh}) {
    const int64_t n = 40;
    auto x = random_vector(n, 11, 2.0f), w = random_vector(n, 12);
    if (act == Activation::Relu)  // keep away from the kink at 0
      for (auto& v : x) v = v >= 0 ? v + 0.05f : v - 0.05f;
    std::vector<float> y(n), dx(n);
    auto loss = [&] {
      activation_forward(kRef, act, x.data(), y.data(), n);
      return weighted_sum(y, w);
    };
    activation_backward(kRef, act, x.data(), w.data(), dx.data(), n);
    EXPECT_LT(rel(dx, numeric_gradient(x, loss, 1e-3f)), kTol) << activation_name(act);
  }
  // Exact GELU at known points (x·Φ(x)).
  std::vector<float> x{-1.0f, 0.0f, 1.0f, 3.0f}, y(4);
  activation_forward(kRef, Activation::Gelu, x.data(), y.data(), 4);
  EXPECT_NEAR(y[0], -0.15865525393145707, 1e-7);
  EXPECT_NEAR(y[2], 0.8413447460685429, 1e-7);
  EXPECT_NEAR(y[3], 2.9959502, 1e-6);
  EXPECT_EQ(activation_from_name("gelu_new"), Activation::GeluTanh);
  EXPECT_THROW(activation_from_name("mish"), Error);
}

TEST(OpsGradcheck, EmbeddingScatterAddAndPaddingRow) {
  const int64_t V = 6, C = 3, rows = 7;
  const std::vector<int32_t> ids{1, 0, 3, 1, 5, 0, 1};
  auto table = random_vector(V * C, 13), w = random_vector(rows * C, 14);
  std::vector<float> y(rows * C);
  auto loss = [&] {
    embedding_forward(kRef, ids.data(), table.data(), y.data(), rows, V, C, false);
    return weighted_sum(y, w);
  };
  std::vector<float> dtable(V * C, 0.0f);
  embedding_backward(kRef, ids.data(), w.data(), dtable.data(), rows, V, C, /*padding_idx=*/-1);
  EXPECT_LT(rel(dtable, numeric_gradient(table, loss)), kTol);
  std::fill(dtable.begin(), dtable.end(), 0.0f);
  embedding_backward(kRef, ids.data(), w.data(), dtable.data(), rows, V, C, /*padding_idx=*/0);
  for (int64_t c = 0; c < C; ++c) EXPECT_EQ(dtable[c], 0.0f);
  const std::vector<int32_t> bad{0, 6};
  EXPECT_THROW(embedding_forward(kRef, bad.data(), table.data(), y.data(), 2, V, C, false), Error);
}

TEST(OpsGradcheck, Losses) {
  const int64_t N = 4, C = 3;
  auto z = random_vector(N * C, 15, 2.0f);
  std::vector<float> dz(N * C);
  const std::vector<int64_t> cls{2, kIgnoreIndex, 0, 1};
  auto ce = [&] { return static_cast<double>(cross_entropy_loss(kRef, z.data(), cls.data(), nullptr, N, C)); };
  cross_entropy_loss(kRef, z.data(), cls.data(), dz.data(), N, C);
  EXPECT_LT(rel(dz, numeric_gradient(z, ce, 1e-2f)), kTol);
  for (int64_t c = 0; c < C; ++c) EXPECT_EQ(dz[C + c], 0.0f);  // ignored row
  // Hand value: one row, logits (0, 0), target 0 → ln 2.
  const std::vector<float> two{0.0f, 0.0f};
  const std::vector<int64_t> t0{0};
  EXPECT_NEAR(cross_entropy_loss(kRef, two.data(), t0.data(), nullptr, 1, 2), std::log(2.0), 1e-7);
  const std::vector<int64_t> all_ignored{kIgnoreIndex};
  EXPECT_TRUE(std::isnan(cross_entropy_loss(kRef, two.data(), all_ignored.data(), nullptr, 1, 2)));
  const std::vector<int64_t> out_of_range{2};
  EXPECT_THROW(cross_entropy_loss(kRef, two.data(), out_of_range.data(), nullptr, 1, 2), Error);

  std::vector<float> y01{1, 0, 1, 0, 0, 1, 1, 1, 0, 0, 1, 0};
  auto bce = [&] { return static_cast<double>(bce_with_logits_loss(kRef, z.data(), y01.data(), nullptr, N, C)); };
  bce_with_logits_loss(kRef, z.data(), y01.data(), dz.data(), N, C);
  EXPECT_LT(rel(dz, numeric_gradient(z, bce, 1e-2f)), kTol);
  // BCE of logit 0 is ln 2 whatever the label.
  EXPECT_NEAR(bce_with_logits_loss(kRef, two.data(), y01.data(), nullptr, 1, 2), std::log(2.0), 1e-7);

  auto target = random_vector(N * C, 16);
  auto mse = [&] { return static_cast<double>(mse_loss(kRef, z.data(), target.data(), nullptr, N, C)); };
  mse_loss(kRef, z.data(), target.data(), dz.data(), N, C);
  EXPECT_LT(rel(dz, numeric_gradient(z, mse, 1e-2f)), kTol);
}

TEST(OpsGradcheck, DropoutBackwardIsTheMaskedScaling) {
  const int64_t n = 50;
  const float p = 0.3f;
  auto x = random_vector(n, 17), w = random_vector(n, 18);
  std::vector<float> y(n), dx(n);
  std::vector<uint8_t> mask(n);
  auto loss = [&] {
    dropout_forward(kRef, x.data(), y.data(), mask.data(), n, p, 99, 1000);
    return weighted_sum(y, w);
  };
  loss();
  dropout_backward(kRef, w.data(), mask.data(), dx.data(), n, p);
  EXPECT_LT(rel(dx, numeric_gradient(x, loss)), kTol);
}

TEST(OpsGradcheck, HeadsSplitMergeRoundTripAndRowScatter) {
  const int64_t B = 2, T = 3, NH = 2, D = 4;
  auto x = random_vector(B * T * NH * D, 19);
  std::vector<float> h(x.size()), back(x.size());
  split_heads(kRef, x.data(), h.data(), B, T, NH, D);
  EXPECT_EQ(h[((1 * NH + 1) * T + 2) * D + 3], x[(1 * T + 2) * NH * D + 1 * D + 3]);
  merge_heads(kRef, h.data(), back.data(), B, T, NH, D);
  EXPECT_EQ(back, x);
  std::vector<float> rows(B * NH * D), scattered(x.size());
  gather_rows(kRef, x.data(), rows.data(), B, T, NH * D, 0);
  scatter_rows(kRef, rows.data(), scattered.data(), B, T, NH * D, 0);
  EXPECT_EQ(scattered[NH * D], 0.0f);
  EXPECT_EQ(scattered[T * NH * D + 1], x[T * NH * D + 1]);
}
