// nn/ modules: finite-difference checks of the composed backward passes (SelfAttention with a padding mask,
// FeedForward, LayerNorm, Embedding), cpu == ref, the accumulate/overwrite contract, and no allocation after the
// first step of a shape.
#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <utility>

#include "nn/embedding.h"
#include "nn/feed_forward.h"
#include "nn/layer_norm.h"
#include "nn/parameter_init.h"
#include "nn/self_attention.h"
#include "ops/attention_softmax.h"
#include "ops_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

const OpContext kRef{Backend::Ref, Precision::F32};
const OpContext kCpu{Backend::Cpu, Precision::F32};

std::vector<float> to_vector(const Tensor& t) { return std::vector<float>(t.f32(), t.f32() + t.numel()); }
void from_vector(Tensor& t, const std::vector<float>& v) { std::copy(v.begin(), v.end(), t.f32()); }

bool is_key_bias(const Parameter& p) {
  return p.name.size() >= 8 && p.name.compare(p.name.size() - 8, 8, "key.bias") == 0;
}

// Checks d(Σ w·f(x))/dθ for every parameter and for x by central differences.
void gradcheck(ParameterList params, std::vector<float>& x, const std::vector<float>& w,
               const std::function<std::vector<float>()>& forward,
               const std::function<std::vector<float>(const std::vector<float>& dy)>& backward, double tol) {
  for (Parameter* p : params) p->grad.zero();
  forward();
  const std::vector<float> dx = backward(w);
  auto loss = [&] { return weighted_sum(forward(), w); };
  auto num_dx = numeric_gradient(x, loss, 1e-2f);
  EXPECT_LT(relative_error(dx.data(), num_dx.data(), static_cast<int64_t>(dx.size())), tol) << "input";
  for (Parameter* p : params) {
    if (is_key_bias(*p)) {  // exactly zero in exact arithmetic (softmax is shift-invariant per query row)
      for (int64_t i = 0; i < p->grad.numel(); ++i) EXPECT_NEAR(p->grad.f32()[i], 0.0f, 1e-4f) << p->name;
      continue;
    }
    std::vector<float> v = to_vector(p->value);
    auto num = numeric_gradient(v, [&] {
      from_vector(p->value, v);
      return loss();
    }, 1e-2f);
    from_vector(p->value, v);
    EXPECT_LT(relative_error(p->grad.f32(), num.data(), p->grad.numel(), 1e-2), tol) << p->name;
  }
}

void randomise(ParameterList params, uint64_t seed, float scale) {
  for (size_t i = 0; i < params.size(); ++i) init_normal(*params[i], scale, Rng(seed).fork(i));
}

}  // namespace

TEST(NnModules, SelfAttentionGradcheckWithPaddingMask) {
  const int64_t B = 2, T = 4, H = 6, NH = 2;
  SelfAttention attn("attn", H, NH, 0.1f);
  ParameterList params;
  attn.collect(params);
  ASSERT_EQ(params.size(), 6u);
  EXPECT_EQ(params[0]->name, "attn.query.weight");
  EXPECT_FALSE(params[1]->decay);
  randomise(params, 1, 0.5f);
  auto x = random_vector(B * T * H, 2), w = random_vector(B * T * H, 3);
  const std::vector<int32_t> mask{1, 1, 1, 0, 1, 1, 1, 1};
  std::vector<float> mask_add(B * T);
  attention_additive_mask(mask.data(), mask_add.data(), B, T);
  std::vector<float> y(B * T * H);
  gradcheck(params, x, w,
            [&] {
              attn.forward(kRef, x.data(), mask_add.data(), y.data(), B, T, nullptr);
              return y;
            },
            [&](const std::vector<float>& dy) {
              std::vector<float> dx(x.size());
              attn.backward(kRef, x.data(), dy.data(), dx.data(), B, T);
              return dx;
            },
            3e-3);
}

TEST(NnModules, SelfAttentionWithDropoutGradcheckFixedMask) {
  // With a fixed (seed, counter) the dropped network is a deterministic function: its gradient must check too.
  const int64_t B = 1, T = 5, H = 4, NH = 2;
  SelfAttention attn("attn", H, NH, 0.3f);
  ParameterList params;
  attn.collect(params);
  randomise(params, 4, 0.5f);
  auto x = random_vector(B * T * H, 5), w = random_vector(B * T * H, 6);
  std::vector<float> y(B * T * H);
  gradcheck(params, x, w,
            [&] {
              Rng rng(77, 0);
              attn.forward(kRef, x.data(), nullptr, y.data(), B, T, &rng);
              return y;
            },
            [&](const std::vector<float>& dy) {
              std::vector<float> dx(x.size());
              attn.backward(kRef, x.data(), dy.data(), dx.data(), B, T);
              return dx;
            },
            3e-3);
}

TEST(NnModules, FeedForwardGradcheck) {
  const int64_t rows = 3, H = 4, I = 7;
  FeedForward ff("ff.in", "ff.out", H, I, Activation::Gelu);
  ParameterList params;
  ff.collect(params);
  randomise(params, 7, 0.5f);
  auto x = random_vector(rows * H, 8), w = random_vector(rows * H, 9);
  std::vector<float> y(rows * H);
  gradcheck(params, x, w,
            [&] {
              ff.forward(kRef, x.data(), y.data(), rows);
              return y;
            },
            [&](const std::vector<float>& dy) {
              std::vector<float> dx(x.size());
              ff.backward(kRef, x.data(), dy.data(), dx.data(), rows);
              return dx;
            },
            3e-3);
}

TEST(NnModules, CpuMatchesRefAndGradientsAccumulate) {
  const int64_t B = 3, T = 9, H = 32, NH = 4;
  SelfAttention a_ref("a", H, NH, 0.0f), a_cpu("a", H, NH, 0.0f);
  ParameterList pr, pc;
  a_ref.collect(pr);
  a_cpu.collect(pc);
  randomise(pr, 10, 0.2f);
  randomise(pc, 10, 0.2f);
  auto x = random_vector(B * T * H, 11), dy = random_vector(B * T * H, 12);
  std::vector<float> yr(x.size()), yc(x.size()), dxr(x.size()), dxc(x.size());
  a_ref.forward(kRef, x.data(), nullptr, yr.data(), B, T, nullptr);
  a_cpu.forward(kCpu, x.data(), nullptr, yc.data(), B, T, nullptr);
  EXPECT_LT(relative_error(yc, yr), 1e-5);
  a_ref.backward(kRef, x.data(), dy.data(), dxr.data(), B, T);
  a_cpu.backward(kCpu, x.data(), dy.data(), dxc.data(), B, T);
  EXPECT_LT(relative_error(dxc, dxr), 1e-5);
  for (size_t i = 0; i < pr.size(); ++i)
    if (!is_key_bias(*pr[i])) EXPECT_LT(relative_error(to_vector(pc[i]->grad), to_vector(pr[i]->grad), 1e-12), 1e-5) << pr[i]->name;
  // A second backward adds the same gradient again (+=), while dx is overwritten.
  const auto g1 = to_vector(pc[0]->grad);
  a_cpu.forward(kCpu, x.data(), nullptr, yc.data(), B, T, nullptr);
  a_cpu.backward(kCpu, x.data(), dy.data(), dxc.data(), B, T);
  const auto g2 = to_vector(pc[0]->grad);
  for (size_t i = 0; i < g1.size(); ++i) ASSERT_NEAR(g2[i], 2 * g1[i], 1e-5 + 1e-5 * std::fabs(g1[i]));
  EXPECT_LT(relative_error(dxc, dxr), 1e-5);
}

TEST(NnModules, SelfAttentionWithoutInputGradientAndAccumulate) {
  // dx == nullptr skips the input-gradient products but yields the same parameter gradients; accumulate_dx adds.
  const int64_t B = 2, T = 7, H = 24, NH = 3;
  SelfAttention a("a", H, NH, 0.2f);
  ParameterList params;
  a.collect(params);
  randomise(params, 21, 0.3f);
  auto x = random_vector(B * T * H, 22), dy = random_vector(B * T * H, 23);
  std::vector<float> y(x.size()), dx(x.size());
  auto run = [&](float* dx_out, bool accumulate) {
    for (Parameter* p : params) p->grad.zero();
    Rng rng(8, 0);
    a.forward(kCpu, x.data(), nullptr, y.data(), B, T, &rng);
    a.backward(kCpu, x.data(), dy.data(), dx_out, B, T, accumulate);
    std::vector<std::vector<float>> grads;
    for (Parameter* p : params) grads.push_back(to_vector(p->grad));
    return grads;
  };
  const auto with_dx = run(dx.data(), false);
  const auto without_dx = run(nullptr, false);
  for (size_t i = 0; i < params.size(); ++i) EXPECT_EQ(with_dx[i], without_dx[i]) << params[i]->name;
  std::vector<float> acc(x.size(), 1.5f);
  run(acc.data(), true);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(acc[i], dx[i] + 1.5f, 1e-5f) << i;
}

TEST(NnModules, InstancesSharingScratchInterleaveSafely) {
  // Two layers on one thread share their temporaries (nn/scratch.h shared_scratch): running forward A, forward B,
  // backward B, backward A (as an encoder does) gives exactly what each layer gives on its own.
  const int64_t B = 2, T = 6, H = 16, NH = 2, I = 40;
  auto make = [&](uint64_t seed) {
    auto a = std::make_unique<SelfAttention>("a", H, NH, 0.25f);
    auto f = std::make_unique<FeedForward>("i", "o", H, I, Activation::Gelu);
    ParameterList p;
    a->collect(p);
    f->collect(p);
    randomise(p, seed, 0.3f);
    return std::make_pair(std::move(a), std::move(f));
  };
  auto [a1, f1] = make(31);
  auto [a2, f2] = make(32);
  auto x = random_vector(B * T * H, 33), dy = random_vector(B * T * H, 34);
  const int64_t n = B * T * H;
  auto alone = [&](SelfAttention& a, FeedForward& f, uint64_t seed) {
    std::vector<float> h(n), y(n), dh(n), dx(n);
    Rng rng(seed, 0);
    a.forward(kCpu, x.data(), nullptr, h.data(), B, T, &rng);
    f.forward(kCpu, h.data(), y.data(), B * T);
    f.backward(kCpu, h.data(), dy.data(), dh.data(), B * T);
    a.backward(kCpu, x.data(), dh.data(), dx.data(), B, T);
    return dx;
  };
  const auto dx1 = alone(*a1, *f1, 1), dx2 = alone(*a2, *f2, 2);
  std::vector<float> h1(n), y1(n), h2(n), y2(n), dh(n), dx(n);
  Rng r1(1, 0), r2(2, 0);
  a1->forward(kCpu, x.data(), nullptr, h1.data(), B, T, &r1);
  f1->forward(kCpu, h1.data(), y1.data(), B * T);
  a2->forward(kCpu, x.data(), nullptr, h2.data(), B, T, &r2);
  f2->forward(kCpu, h2.data(), y2.data(), B * T);
  f2->backward(kCpu, h2.data(), dy.data(), dh.data(), B * T);
  a2->backward(kCpu, x.data(), dh.data(), dx.data(), B, T);
  EXPECT_EQ(dx, dx2);
  f1->backward(kCpu, h1.data(), dy.data(), dh.data(), B * T);
  a1->backward(kCpu, x.data(), dh.data(), dx.data(), B, T);
  EXPECT_EQ(dx, dx1);
}

TEST(NnModules, FeedForwardAccumulatesInputGradient) {
  const int64_t rows = 5, H = 8, I = 20;
  FeedForward ff("i", "o", H, I, Activation::Gelu);
  ParameterList params;
  ff.collect(params);
  randomise(params, 41, 0.4f);
  auto x = random_vector(rows * H, 42), dy = random_vector(rows * H, 43);
  std::vector<float> y(x.size()), dx(x.size()), acc(x.size(), -2.0f);
  ff.forward(kCpu, x.data(), y.data(), rows);
  ff.backward(kCpu, x.data(), dy.data(), dx.data(), rows);
  ff.forward(kCpu, x.data(), y.data(), rows);
  ff.backward(kCpu, x.data(), dy.data(), acc.data(), rows, /*accumulate_dx=*/true);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(acc[i], dx[i] - 2.0f, 1e-5f) << i;
}

TEST(NnModules, NoAllocationAfterFirstStepOfAShape) {
  const int64_t H = 16, NH = 2;
  SelfAttention attn("a", H, NH, 0.1f);
  FeedForward ff("i", "o", H, 32, Activation::Gelu);
  LayerNorm ln("ln", H, 1e-12f);
  auto step = [&](int64_t B, int64_t T) {
    auto x = random_vector(B * T * H, 13);
    std::vector<float> y(x.size()), z(x.size()), dx(x.size());
    Rng rng(1);
    attn.forward(kCpu, x.data(), nullptr, y.data(), B, T, &rng);
    ff.forward(kCpu, y.data(), z.data(), B * T);
    ln.forward(kCpu, z.data(), y.data(), B * T);
    ln.backward(kCpu, z.data(), x.data(), dx.data(), B * T);
    ff.backward(kCpu, y.data(), dx.data(), z.data(), B * T);
    attn.backward(kCpu, x.data(), z.data(), dx.data(), B, T);
  };
  step(4, 8);
  const int64_t after_first = ScratchBuffer::total_allocations();
  step(4, 8);
  step(2, 5);  // smaller: reuses
  EXPECT_EQ(ScratchBuffer::total_allocations(), after_first);
  step(4, 12);  // larger: grows
  EXPECT_GT(ScratchBuffer::total_allocations(), after_first);
}

TEST(NnModules, EmbeddingPaddingRowAndLayerNormDefaults) {
  Embedding e("emb", 5, 3, /*padding_idx=*/0);
  init_normal(e.weight, 1.0f, Rng(3));
  const std::vector<int32_t> ids{0, 2, 0};
  const std::vector<float> dy(9, 1.0f);
  e.backward(kCpu, ids.data(), dy.data(), 3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_EQ(e.weight.grad.f32()[c], 0.0f);
    EXPECT_EQ(e.weight.grad.f32()[2 * 3 + c], 1.0f);
  }
  LayerNorm ln("ln", 4, 1e-12f);
  EXPECT_EQ(ln.weight.value.f32()[0], 1.0f);
  EXPECT_EQ(ln.bias.value.f32()[0], 0.0f);
  EXPECT_FALSE(ln.weight.decay);
}
