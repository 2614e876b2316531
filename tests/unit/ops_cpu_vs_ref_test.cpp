// Every op's fast `cpu` path against its `ref` oracle, on shapes like the ones BERT uses (odd sizes included),
// parametrised by backend/precision/tolerance declared together. Outputs are checked for NaN/inf and for writes
// past their end (sentinels).
#include <gtest/gtest.h>

#include <cstring>
#include <string>

#include "core/error.h"
#include "ops/activation.h"
#include "ops/add_layernorm.h"
#include "ops/attention_softmax.h"
#include "ops/dropout.h"
#include "ops/embedding.h"
#include "ops/embedding_layernorm.h"
#include "ops/layernorm.h"
#include "ops/matmul.h"
#include "ops/tensor_ops.h"
#include "ops_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

struct BackendCase {
  const char* name;
  OpContext ctx;
  double tolerance;  // relative (max|a−b| / max|ref|)
};

const OpContext kRef{Backend::Ref, Precision::F32};
constexpr float kSentinel = 12345.678f;

// A vector with `pad` sentinel values after n elements.
std::vector<float> with_sentinels(int64_t n, float fill = 0.0f, int64_t pad = 16) {
  std::vector<float> v(static_cast<size_t>(n + pad), kSentinel);
  std::fill(v.begin(), v.begin() + n, fill);
  return v;
}

void expect_close(const std::vector<float>& fast, const std::vector<float>& ref, int64_t n, double tol,
                  const std::string& what) {
  for (int64_t i = 0; i < n; ++i) ASSERT_TRUE(std::isfinite(fast[i])) << what << ": non-finite at " << i;
  for (size_t i = n; i < fast.size(); ++i) ASSERT_EQ(fast[i], kSentinel) << what << ": wrote past the end";
  std::vector<double> r(ref.begin(), ref.begin() + n);
  EXPECT_LE(relative_error(fast.data(), r.data(), n), tol) << what;
}

class OpsBackend : public ::testing::TestWithParam<BackendCase> {};

}  // namespace

TEST_P(OpsBackend, GemmAllTransposesBiasAccumulateBatched) {
  const auto& p = GetParam();
  struct Case { int64_t batch, M, N, K; };
  for (Case c : {Case{1, 37, 29, 53}, Case{1, 256, 96, 64}, Case{6, 17, 17, 8}, Case{4, 33, 16, 33}}) {
    for (int ta = 0; ta < 2; ++ta)
      for (int tb = 0; tb < 2; ++tb)
        for (int acc = 0; acc < 2; ++acc)
          for (int with_bias = 0; with_bias < 2; ++with_bias) {
            GemmShape s{c.batch, c.M, c.N, c.K, ta == 1, tb == 1};
            auto A = random_vector(c.batch * c.M * c.K, 1), B = random_vector(c.batch * c.K * c.N, 2);
            auto bias = random_vector(c.N, 3);
            const int64_t n = c.batch * c.M * c.N;
            auto init = random_vector(n, 4);
            auto fast = with_sentinels(n), ref = with_sentinels(n);
            std::copy(init.begin(), init.end(), fast.begin());
            std::copy(init.begin(), init.end(), ref.begin());
            const float* b = with_bias ? bias.data() : nullptr;
            gemm(p.ctx, s, A.data(), B.data(), b, fast.data(), acc == 1);
            gemm(kRef, s, A.data(), B.data(), b, ref.data(), acc == 1);
            expect_close(fast, ref, n, p.tolerance,
                         "gemm M=" + std::to_string(c.M) + " N=" + std::to_string(c.N) + " K=" + std::to_string(c.K) +
                             " ta=" + std::to_string(ta) + " tb=" + std::to_string(tb));
          }
  }
}

// The cpu matmul keeps a bounded cache of oneDNN primitives, one per shape, evicting the least recently used. More
// distinct shapes than it holds (1,024), then the first shapes again (evicted by then) and a shape kept in use
// throughout: every product still equals the ref one, the shape in use and the recent ones stay cached, and the
// evicted ones are re-made (counted by cpu::gemm_primitives_created).
TEST_P(OpsBackend, GemmCorrectAcrossMoreShapesThanThePrimitiveCacheHolds) {
  const auto& p = GetParam();
  const int64_t N = 8, K = 4, kShapes = 1100;
  auto B = random_vector(K * N, 2);
  auto check = [&](int64_t M) {
    GemmShape s{1, M, N, K, false, false};
    auto A = random_vector(M * K, static_cast<uint64_t>(M));
    auto fast = with_sentinels(M * N), ref = with_sentinels(M * N);
    gemm(p.ctx, s, A.data(), B.data(), nullptr, fast.data(), false);
    gemm(kRef, s, A.data(), B.data(), nullptr, ref.data(), false);
    expect_close(fast, ref, M * N, p.tolerance, "gemm M=" + std::to_string(M));
  };
  for (int64_t M = 1; M <= kShapes; ++M) {
    check(M);
    if (M % 64 == 0) check(3);  // in use all along: stays cached
  }
  int64_t created = cpu::gemm_primitives_created();
  check(3);
  check(kShapes);
  check(kShapes - 500);
  EXPECT_EQ(cpu::gemm_primitives_created(), created) << "a shape in use, or among the last 1,024, was evicted";
  for (int64_t M = 1; M <= 16; ++M) check(M);
  EXPECT_EQ(cpu::gemm_primitives_created(), created + 15) << "the 15 old shapes (all but M=3) were evicted and re-made";
}

TEST_P(OpsBackend, LinearBackwardProducts) {
  const auto& p = GetParam();
  const int64_t rows = 70, in = 48, out = 40;
  auto x = random_vector(rows * in, 5), W = random_vector(out * in, 6), dy = random_vector(rows * out, 7);
  auto dx_f = with_sentinels(rows * in), dx_r = with_sentinels(rows * in);
  linear_backward_input(p.ctx, dy.data(), W.data(), dx_f.data(), rows, in, out);
  linear_backward_input(kRef, dy.data(), W.data(), dx_r.data(), rows, in, out);
  expect_close(dx_f, dx_r, rows * in, p.tolerance, "linear dx");
  auto dW_f = with_sentinels(out * in, 0.5f), dW_r = with_sentinels(out * in, 0.5f);
  auto db_f = with_sentinels(out, 0.25f), db_r = with_sentinels(out, 0.25f);
  linear_backward_weight(p.ctx, x.data(), dy.data(), dW_f.data(), db_f.data(), rows, in, out);
  linear_backward_weight(kRef, x.data(), dy.data(), dW_r.data(), db_r.data(), rows, in, out);
  expect_close(dW_f, dW_r, out * in, p.tolerance, "linear dW");
  expect_close(db_f, db_r, out, p.tolerance, "linear db");
}

TEST_P(OpsBackend, LayerNormForwardBackward) {
  const auto& p = GetParam();
  const int64_t rows = 33, C = 200;
  auto x = random_vector(rows * C, 8, 3.0f), w = random_vector(C, 9), b = random_vector(C, 10);
  auto dy = random_vector(rows * C, 11);
  auto y_f = with_sentinels(rows * C), y_r = with_sentinels(rows * C);
  auto m_f = with_sentinels(rows), m_r = with_sentinels(rows), s_f = with_sentinels(rows), s_r = with_sentinels(rows);
  layernorm_forward(p.ctx, x.data(), w.data(), b.data(), y_f.data(), m_f.data(), s_f.data(), rows, C, 1e-12f);
  layernorm_forward(kRef, x.data(), w.data(), b.data(), y_r.data(), m_r.data(), s_r.data(), rows, C, 1e-12f);
  expect_close(y_f, y_r, rows * C, p.tolerance, "layernorm y");
  expect_close(s_f, s_r, rows, p.tolerance, "layernorm rstd");
  auto dx_f = with_sentinels(rows * C), dx_r = with_sentinels(rows * C);
  auto dw_f = with_sentinels(C, 1.0f), dw_r = with_sentinels(C, 1.0f), db_f = with_sentinels(C), db_r = with_sentinels(C);
  layernorm_backward(p.ctx, dy.data(), x.data(), w.data(), m_f.data(), s_f.data(), dx_f.data(), dw_f.data(),
                     db_f.data(), rows, C);
  layernorm_backward(kRef, dy.data(), x.data(), w.data(), m_r.data(), s_r.data(), dx_r.data(), dw_r.data(),
                     db_r.data(), rows, C);
  expect_close(dx_f, dx_r, rows * C, p.tolerance, "layernorm dx");
  expect_close(dw_f, dw_r, C, p.tolerance, "layernorm dw");
  expect_close(db_f, db_r, C, p.tolerance, "layernorm db");
}

TEST_P(OpsBackend, AttentionSoftmax) {
  const auto& p = GetParam();
  AttentionDims d{3, 4, 19, 19};
  const int64_t n = d.B * d.NH * d.Tq * d.Tk;
  auto s = random_vector(n, 12, 4.0f), dp = random_vector(n, 13);
  std::vector<int32_t> mask(d.B * d.Tk, 1);
  for (int64_t j = 11; j < d.Tk; ++j) mask[j] = 0;  // batch 0 padded after 11 tokens
  std::vector<float> mask_add(d.B * d.Tk);
  attention_additive_mask(mask.data(), mask_add.data(), d.B, d.Tk);
  auto p_f = with_sentinels(n), p_r = with_sentinels(n);
  attention_softmax_forward(p.ctx, s.data(), mask_add.data(), p_f.data(), d, 8.0f);
  attention_softmax_forward(kRef, s.data(), mask_add.data(), p_r.data(), d, 8.0f);
  expect_close(p_f, p_r, n, p.tolerance, "softmax forward");
  auto ds_f = with_sentinels(n), ds_r = with_sentinels(n);
  attention_softmax_backward(p.ctx, p_r.data(), dp.data(), ds_f.data(), d, 8.0f);
  attention_softmax_backward(kRef, p_r.data(), dp.data(), ds_r.data(), d, 8.0f);
  expect_close(ds_f, ds_r, n, p.tolerance, "softmax backward");
}

TEST_P(OpsBackend, AttentionSoftmaxDropoutFused) {
  // The fused softmax + attention dropout against the ref composition, and its mask against ops/dropout's.
  const auto& p = GetParam();
  AttentionDims d{2, 3, 17, 17};
  const int64_t n = d.B * d.NH * d.Tq * d.Tk;
  auto s = random_vector(n, 40, 4.0f), dq = random_vector(n, 41);
  std::vector<int32_t> mask(d.B * d.Tk, 1);
  for (int64_t j = 9; j < d.Tk; ++j) mask[d.Tk + j] = 0;  // batch 1 padded after 9 tokens
  std::vector<float> mask_add(d.B * d.Tk);
  attention_additive_mask(mask.data(), mask_add.data(), d.B, d.Tk);
  for (float prob : {0.0f, 0.1f, 1.0f}) {
    Rng rng(31, 1000);
    const DropoutDraw draw = dropout_draw(prob, &rng, n);
    const std::string what = "p=" + std::to_string(prob);
    auto p_f = with_sentinels(n), p_r = with_sentinels(n), q_f = with_sentinels(n), q_r = with_sentinels(n);
    attention_softmax_dropout_forward(p.ctx, s.data(), mask_add.data(), p_f.data(), q_f.data(), d, 8.0f, draw);
    attention_softmax_dropout_forward(kRef, s.data(), mask_add.data(), p_r.data(), q_r.data(), d, 8.0f, draw);
    expect_close(p_f, p_r, n, p.tolerance, "fused softmax forward P " + what);
    for (int64_t r = 0; r < d.NH * d.Tq; ++r)  // batch 1's padded keys: probability exactly 0 (as PyTorch)
      for (int64_t j = 9; j < d.Tk; ++j) ASSERT_EQ(p_f[(d.NH * d.Tq + r) * d.Tk + j], 0.0f) << what;
    if (draw.active()) {
      // P' is exactly dropout_forward(P) with the stored-mask API at the same (seed, counter).
      std::vector<float> q_stored(n);
      std::vector<uint8_t> m(n);
      dropout_forward(kRef, p_f.data(), q_stored.data(), m.data(), n, prob, draw.seed, draw.counter);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(q_f[i], q_stored[i]) << what << " at " << i;
      expect_close(q_f, q_r, n, p.tolerance, "fused softmax forward P' " + what);
    }
    auto ds_f = with_sentinels(n), ds_r = with_sentinels(n);
    attention_softmax_dropout_backward(p.ctx, p_r.data(), dq.data(), ds_f.data(), d, 8.0f, draw);
    attention_softmax_dropout_backward(kRef, p_r.data(), dq.data(), ds_r.data(), d, 8.0f, draw);
    expect_close(ds_f, ds_r, n, p.tolerance, "fused softmax backward " + what);
    auto inplace = dq;  // dscores may alias the incoming gradient; P' re-materialised on request
    auto again = with_sentinels(n);
    attention_softmax_dropout_backward(p.ctx, p_f.data(), inplace.data(), inplace.data(), d, 8.0f, draw, again.data());
    std::vector<float> ds_same(n);
    attention_softmax_dropout_backward(p.ctx, p_f.data(), dq.data(), ds_same.data(), d, 8.0f, draw);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(inplace[i], ds_same[i]) << what << " in place at " << i;
    if (draw.active())
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(again[i], q_f[i]) << what << " re-materialised P' at " << i;
  }
}

TEST_P(OpsBackend, AddLayerNormFused) {
  // sum = dropout(branch) + residual, y = LN(sum) and its backward against the unfused ref sequence; the cpu path
  // must also equal the unfused cpu ops bit for bit (same row kernels, same mask).
  const auto& p = GetParam();
  const int64_t rows = 37, C = 150, n = rows * C;
  auto branch = random_vector(n, 42, 2.0f), residual = random_vector(n, 43), w = random_vector(C, 44);
  auto b = random_vector(C, 45), dy = random_vector(n, 46);
  for (float prob : {0.0f, 0.2f}) {
    Rng rng(5, 77);
    const DropoutDraw draw = dropout_draw(prob, &rng, n);
    const std::string what = "p=" + std::to_string(prob);
    auto sum_f = with_sentinels(n), sum_r = with_sentinels(n), y_f = with_sentinels(n), y_r = with_sentinels(n);
    std::vector<float> m_f(rows), s_f(rows), m_r(rows), s_r(rows);
    add_layernorm_forward(p.ctx, branch.data(), residual.data(), draw, w.data(), b.data(), sum_f.data(), y_f.data(),
                          m_f.data(), s_f.data(), rows, C, 1e-12f);
    add_layernorm_forward(kRef, branch.data(), residual.data(), draw, w.data(), b.data(), sum_r.data(), y_r.data(),
                          m_r.data(), s_r.data(), rows, C, 1e-12f);
    expect_close(sum_f, sum_r, n, 0.0, "add_layernorm sum " + what);  // elementwise: exact
    expect_close(y_f, y_r, n, p.tolerance, "add_layernorm y " + what);
    // Unfused cpu sequence: dropout, add, layernorm.
    std::vector<float> sum_u(n), y_u(n), m_u(rows), s_u(rows);
    dropout_forward(p.ctx, branch.data(), sum_u.data(), draw, n);
    add_inplace(p.ctx, residual.data(), sum_u.data(), n);
    layernorm_forward(p.ctx, sum_u.data(), w.data(), b.data(), y_u.data(), m_u.data(), s_u.data(), rows, C, 1e-12f);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y_f[i], y_u[i]) << "fused != unfused y " << what << " at " << i;

    auto dsum_f = with_sentinels(n), dsum_r = with_sentinels(n), dbr_f = with_sentinels(n), dbr_r = with_sentinels(n);
    auto dw_f = with_sentinels(C, 0.5f), dw_r = with_sentinels(C, 0.5f), db_f = with_sentinels(C), db_r = with_sentinels(C);
    add_layernorm_backward(p.ctx, dy.data(), sum_f.data(), w.data(), m_f.data(), s_f.data(), draw, dsum_f.data(),
                           dbr_f.data(), dw_f.data(), db_f.data(), rows, C);
    add_layernorm_backward(kRef, dy.data(), sum_r.data(), w.data(), m_r.data(), s_r.data(), draw, dsum_r.data(),
                           dbr_r.data(), dw_r.data(), db_r.data(), rows, C);
    expect_close(dsum_f, dsum_r, n, p.tolerance, "add_layernorm dsum " + what);
    expect_close(dbr_f, dbr_r, n, p.tolerance, "add_layernorm dbranch " + what);
    expect_close(dw_f, dw_r, C, p.tolerance, "add_layernorm dw " + what);
    expect_close(db_f, db_r, C, p.tolerance, "add_layernorm db " + what);
    // No residual gradient wanted, dbranch written over the saved sum: same dbranch, same parameter sums.
    auto sum_alias = sum_f;
    std::vector<float> dw2(C, 0.5f), db2(C, 0.0f);
    add_layernorm_backward(p.ctx, dy.data(), sum_alias.data(), w.data(), m_f.data(), s_f.data(), draw, nullptr,
                           sum_alias.data(), dw2.data(), db2.data(), rows, C);
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(sum_alias[i], dbr_f[i]) << what << " aliased dbranch at " << i;
    for (int64_t c = 0; c < C; ++c) ASSERT_EQ(dw2[c], dw_f[c]) << what << " dw at " << c;
  }
}

TEST_P(OpsBackend, EmbeddingLayerNormFused) {
  // y = dropout(LN(word[ids] + type[tt] + pos[t])) and its backward against the unfused ref sequence; the cpu path
  // must also equal the unfused cpu ops (lookups, layernorm, dropout) bit for bit.
  const auto& p = GetParam();
  const int64_t rows = 37, C = 150, n = rows * C, V = 23, TV = 2, P = 40;
  auto word = random_vector(V * C, 60), type = random_vector(TV * C, 61), pos = random_vector(P * C, 62);
  auto w = random_vector(C, 63), b = random_vector(C, 64), dy = random_vector(n, 65);
  std::vector<int32_t> ids(rows), tt(rows), positions(rows);
  for (int64_t r = 0; r < rows; ++r) {
    ids[r] = static_cast<int32_t>((r * 7) % V), tt[r] = static_cast<int32_t>(r % TV);
    positions[r] = static_cast<int32_t>(r % 19);
  }
  const EmbeddingLookup lookups[3] = {{ids.data(), word.data(), V, "word"}, {tt.data(), type.data(), TV, "type"},
                                      {positions.data(), pos.data(), P, "position"}};
  for (int count : {1, 3})
    for (float prob : {0.0f, 0.1f}) {
      Rng rng(9, 5);
      const DropoutDraw draw = dropout_draw(prob, &rng, n);
      const std::string what = "lookups=" + std::to_string(count) + " p=" + std::to_string(prob);
      auto sum_f = with_sentinels(n), sum_r = with_sentinels(n), y_f = with_sentinels(n), y_r = with_sentinels(n);
      std::vector<float> m_f(rows), s_f(rows), m_r(rows), s_r(rows);
      embedding_layernorm_forward(p.ctx, lookups, count, w.data(), b.data(), draw, sum_f.data(), y_f.data(),
                                  m_f.data(), s_f.data(), rows, C, 1e-12f);
      embedding_layernorm_forward(kRef, lookups, count, w.data(), b.data(), draw, sum_r.data(), y_r.data(),
                                  m_r.data(), s_r.data(), rows, C, 1e-12f);
      expect_close(sum_f, sum_r, n, 0.0, "embedding sum " + what);  // same additions in the same order: exact
      expect_close(y_f, y_r, n, p.tolerance, "embedding_layernorm y " + what);
      std::vector<float> sum_u(n), y_u(n), m_u(rows), s_u(rows);  // unfused cpu sequence
      for (int k = 0; k < count; ++k)
        embedding_forward(p.ctx, lookups[k].ids, lookups[k].table, sum_u.data(), rows, lookups[k].V, C, k > 0);
      layernorm_forward(p.ctx, sum_u.data(), w.data(), b.data(), y_u.data(), m_u.data(), s_u.data(), rows, C, 1e-12f);
      dropout_forward(p.ctx, y_u.data(), y_u.data(), draw, n);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(y_f[i], y_u[i]) << "fused != unfused y " << what << " at " << i;

      auto dsum_f = with_sentinels(n), dsum_r = with_sentinels(n);
      auto dw_f = with_sentinels(C, 0.5f), dw_r = with_sentinels(C, 0.5f), db_f = with_sentinels(C), db_r = with_sentinels(C);
      embedding_layernorm_backward(p.ctx, dy.data(), sum_f.data(), w.data(), m_f.data(), s_f.data(), draw,
                                   dsum_f.data(), dw_f.data(), db_f.data(), rows, C);
      embedding_layernorm_backward(kRef, dy.data(), sum_r.data(), w.data(), m_r.data(), s_r.data(), draw,
                                   dsum_r.data(), dw_r.data(), db_r.data(), rows, C);
      expect_close(dsum_f, dsum_r, n, p.tolerance, "embedding_layernorm dsum " + what);
      expect_close(dw_f, dw_r, C, p.tolerance, "embedding_layernorm dw " + what);
      expect_close(db_f, db_r, C, p.tolerance, "embedding_layernorm db " + what);
      // Frozen LayerNorm (null parameter sums): the same input gradient.
      std::vector<float> dsum_frozen(n);
      embedding_layernorm_backward(p.ctx, dy.data(), sum_f.data(), w.data(), m_f.data(), s_f.data(), draw,
                                   dsum_frozen.data(), nullptr, nullptr, rows, C);
      for (int64_t i = 0; i < n; ++i) ASSERT_EQ(dsum_frozen[i], dsum_f[i]) << what << " frozen dsum at " << i;
    }
  // An id outside its table is an error naming the table, the position and the table size.
  std::vector<int32_t> bad = ids;
  bad[5] = static_cast<int32_t>(V);
  const EmbeddingLookup bad_lookup{bad.data(), word.data(), V, "word"};
  std::vector<float> sum(n), y(n), m(rows), s(rows);
  try {
    embedding_layernorm_forward(p.ctx, &bad_lookup, 1, w.data(), b.data(), DropoutDraw{}, sum.data(), y.data(),
                                m.data(), s.data(), rows, C, 1e-12f);
    FAIL() << "out-of-range id accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("word: index 23 at position 5"), std::string::npos) << e.what();
  }
}

TEST_P(OpsBackend, ActivationsForwardBackward) {
  const auto& p = GetParam();
  const int64_t n = 1001;
  auto x = random_vector(n, 14, 3.0f), dy = random_vector(n, 15);
  for (Activation act : {Activation::Gelu, Activation::GeluTanh, Activation::QuickGelu, Activation::Relu,
                         Activation::Silu, Activation::Tanh}) {
    auto y_f = with_sentinels(n), y_r = with_sentinels(n), dx_f = with_sentinels(n), dx_r = with_sentinels(n);
    activation_forward(p.ctx, act, x.data(), y_f.data(), n);
    activation_forward(kRef, act, x.data(), y_r.data(), n);
    expect_close(y_f, y_r, n, p.tolerance, std::string("forward ") + activation_name(act));
    activation_backward(p.ctx, act, x.data(), dy.data(), dx_f.data(), n);
    activation_backward(kRef, act, x.data(), dy.data(), dx_r.data(), n);
    expect_close(dx_f, dx_r, n, p.tolerance, std::string("backward ") + activation_name(act));
    // The fused forward + derivative: the same y, and dy·f' equal to activation_backward bit for bit.
    auto y2 = with_sentinels(n), d2 = with_sentinels(n), d2_r = with_sentinels(n), y2_r = with_sentinels(n);
    activation_forward_with_derivative(p.ctx, act, x.data(), y2.data(), d2.data(), n);
    activation_forward_with_derivative(kRef, act, x.data(), y2_r.data(), d2_r.data(), n);
    expect_close(d2, d2_r, n, p.tolerance, std::string("derivative ") + activation_name(act));
    expect_close(y2, y_f, n, 0.0, std::string("fused forward ") + activation_name(act));
    multiply_inplace(p.ctx, dy.data(), d2.data(), n);
    expect_close(d2, dx_f, n, 0.0, std::string("fused backward ") + activation_name(act));
    auto inplace = with_sentinels(n);  // dydx over x
    std::copy(x.begin(), x.end(), inplace.begin());
    activation_forward_with_derivative(p.ctx, act, inplace.data(), y2.data(), inplace.data(), n);
    multiply_inplace(p.ctx, dy.data(), inplace.data(), n);
    expect_close(inplace, dx_f, n, 0.0, std::string("fused backward in place ") + activation_name(act));
  }
}

TEST_P(OpsBackend, EmbeddingGatherScatter) {
  const auto& p = GetParam();
  const int64_t V = 50, C = 130, rows = 300;
  std::vector<int32_t> ids(rows);
  Rng rng(16);
  for (auto& id : ids) id = static_cast<int32_t>(rng.below(V));
  auto table = random_vector(V * C, 17), dy = random_vector(rows * C, 18);
  auto y_f = with_sentinels(rows * C, 1.0f), y_r = with_sentinels(rows * C, 1.0f);
  embedding_forward(p.ctx, ids.data(), table.data(), y_f.data(), rows, V, C, true);
  embedding_forward(kRef, ids.data(), table.data(), y_r.data(), rows, V, C, true);
  expect_close(y_f, y_r, rows * C, p.tolerance, "embedding forward");
  auto d_f = with_sentinels(V * C), d_r = with_sentinels(V * C);
  embedding_backward(p.ctx, ids.data(), dy.data(), d_f.data(), rows, V, C, 3);
  embedding_backward(kRef, ids.data(), dy.data(), d_r.data(), rows, V, C, 3);
  expect_close(d_f, d_r, V * C, p.tolerance, "embedding backward");
}

TEST_P(OpsBackend, DropoutMaskIsIdenticalAcrossBackends) {
  const auto& p = GetParam();
  const int64_t n = 4097;
  auto x = random_vector(n, 19);
  auto y_f = with_sentinels(n), y_r = with_sentinels(n);
  std::vector<uint8_t> m_f(n), m_r(n);
  dropout_forward(p.ctx, x.data(), y_f.data(), m_f.data(), n, 0.1f, 7, 123);
  dropout_forward(kRef, x.data(), y_r.data(), m_r.data(), n, 0.1f, 7, 123);
  EXPECT_EQ(m_f, m_r);
  expect_close(y_f, y_r, n, 0.0, "dropout forward");  // bit-identical
}

TEST_P(OpsBackend, DropoutDrawRegeneratesTheStoredMask) {
  // A DropoutDraw (mask regenerated, never stored) gives exactly the stored-mask forward and backward.
  const auto& p = GetParam();
  const int64_t n = 5003;
  auto x = random_vector(n, 47), dy = random_vector(n, 48);
  Rng rng(9, 321);
  const DropoutDraw draw = dropout_draw(0.15f, &rng, n);
  EXPECT_EQ(rng.counter(), 321u + n);
  EXPECT_EQ(draw.counter, 321u);
  std::vector<float> y_mask(n), y_draw(n), dx_mask(n), dx_draw(n);
  std::vector<uint8_t> m(n);
  dropout_forward(p.ctx, x.data(), y_mask.data(), m.data(), n, 0.15f, 9, 321);
  dropout_forward(p.ctx, x.data(), y_draw.data(), draw, n);
  EXPECT_EQ(y_mask, y_draw);
  dropout_backward(p.ctx, dy.data(), m.data(), dx_mask.data(), n, 0.15f);
  dropout_backward(p.ctx, dy.data(), draw, dx_draw.data(), n);
  EXPECT_EQ(dx_mask, dx_draw);
  EXPECT_FALSE(dropout_draw(0.15f, nullptr, n).active());  // inference: identity
  EXPECT_FALSE(dropout_draw(0.0f, &rng, n).active());
  EXPECT_EQ(rng.counter(), 321u + n);  // an inactive draw does not advance the stream
}

TEST_P(OpsBackend, HeadLayoutAndAdds) {
  const auto& p = GetParam();
  const int64_t B = 3, T = 5, NH = 4, D = 6, n = B * T * NH * D;
  auto x = random_vector(n, 20), a = random_vector(n, 21);
  auto h_f = with_sentinels(n), h_r = with_sentinels(n);
  split_heads(p.ctx, x.data(), h_f.data(), B, T, NH, D);
  split_heads(kRef, x.data(), h_r.data(), B, T, NH, D);
  expect_close(h_f, h_r, n, 0.0, "split_heads");
  auto m_f = with_sentinels(n), m_r = with_sentinels(n);
  merge_heads(p.ctx, h_f.data(), m_f.data(), B, T, NH, D);
  merge_heads(kRef, h_r.data(), m_r.data(), B, T, NH, D);
  expect_close(m_f, m_r, n, 0.0, "merge_heads");
  auto s_f = with_sentinels(n), s_r = with_sentinels(n);
  add(p.ctx, x.data(), a.data(), s_f.data(), n);
  add(kRef, x.data(), a.data(), s_r.data(), n);
  expect_close(s_f, s_r, n, 0.0, "add");
}

TEST(OpsBackendContract, OneDnnUsesAnOptimisedKernelForBertShapes) {
  // A reference (naive) oneDNN implementation would make training orders of magnitude slower: guard against it.
  for (GemmShape s : {GemmShape{1, 256, 768, 768, false, true}, GemmShape{1, 768, 768, 256, true, false},
                      GemmShape{1, 256, 768, 768, false, false}, GemmShape{24, 128, 128, 64, false, true},
                      GemmShape{24, 128, 64, 128, true, false}, GemmShape{24, 128, 64, 128, false, false}}) {
    const std::string impl = cpu::gemm_impl_name(s, false, s.trans_a);
    EXPECT_EQ(impl.find("ref"), std::string::npos) << "M=" << s.M << " N=" << s.N << " K=" << s.K << ": " << impl;
  }
}

INSTANTIATE_TEST_SUITE_P(Backends, OpsBackend,
                         ::testing::Values(BackendCase{"cpu_f32", OpContext{Backend::Cpu, Precision::F32}, 2e-5},
                                           // bf16 matmul operands (8-bit mantissa, relative rounding 2^-9 each)
                                           // against the fp32 ref: errors ~1e-3 of the output scale for K ≤ 128;
                                           // non-matmul ops compute in fp32 under BF16 (ops_bf16_test checks
                                           // they equal the F32 path exactly).
                                           BackendCase{"cpu_bf16", OpContext{Backend::Cpu, Precision::BF16}, 1e-2}),
                         [](const ::testing::TestParamInfo<BackendCase>& info) { return std::string(info.param.name); });
