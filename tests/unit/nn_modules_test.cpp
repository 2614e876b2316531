// nn/ modules: finite-difference checks of the composed backward passes (SelfAttention with a padding mask,
// FeedForward, LayerNorm, Embedding), cpu == ref, the accumulate/overwrite contract, and no allocation after the
// first step of a shape.
#include <gtest/gtest.h>

#include <functional>

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
