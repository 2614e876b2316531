// The bf16 weight cache is correct by construction: Tensor versions change on every non-const access (and never
// on const ones), Bf16WeightCache re-converts exactly when the (data pointer, version) key changed, and a bf16
// Linear sees every way of changing its weight (direct writes, zero(), a replaced tensor) while reusing the copy
// across forwards and backward. Oracle: the ref backend's bf16 product from the fp32 weight (ref::gemm_bf16 rounds
// both operands itself, so it never sees a cache) — bit-identical to the ref-bf16 Linear.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "nn/bf16_weight_cache.h"
#include "nn/linear.h"
#include "ops/matmul.h"
#include "ops/precision.h"

using namespace accent;

namespace {

void fill_normal(float* v, int64_t n, uint64_t seed) {
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) v[i] = rng.normal();
}

// y = x·Wᵀ + b with both operands rounded to bf16 by the ref oracle (fresh from the fp32 weight).
std::vector<float> oracle_forward(const Linear& lin, const std::vector<float>& x, int64_t rows) {
  std::vector<float> y(static_cast<size_t>(rows * lin.out_features()));
  GemmShape s;
  s.M = rows, s.N = lin.out_features(), s.K = lin.in_features(), s.trans_b = true;
  ref::gemm_bf16(s, x.data(), std::as_const(lin.weight.value).f32(), std::as_const(lin.bias.value).f32(), y.data(),
                 false);
  return y;
}

std::vector<float> run_forward(const OpContext& ctx, const Linear& lin, const std::vector<float>& x, int64_t rows) {
  std::vector<float> y(static_cast<size_t>(rows * lin.out_features()));
  lin.forward(ctx, x.data(), y.data(), rows);
  return y;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

TEST(TensorVersion, NonConstAccessStampsConstAccessDoesNot) {
  Tensor a(DType::F32, {4, 3});
  Tensor b(DType::F32, {4, 3});
  EXPECT_NE(a.version(), 0u);
  EXPECT_NE(a.version(), b.version());  // fresh storages never share a version

  const uint64_t v0 = a.version();
  (void)std::as_const(a).data();
  (void)std::as_const(a).f32();
  (void)std::as_const(a).data_as<float>();
  EXPECT_EQ(a.version(), v0);

  (void)a.f32();
  const uint64_t v1 = a.version();
  EXPECT_NE(v1, v0);
  (void)a.data();
  const uint64_t v2 = a.version();
  EXPECT_NE(v2, v1);
  (void)a.data_as<float>();
  const uint64_t v3 = a.version();
  EXPECT_NE(v3, v2);
  a.zero();
  EXPECT_NE(a.version(), v3);

  // Handles share the storage and so its version: a write through a copy or a reshaped view is seen by all.
  Tensor copy = a;
  Tensor view = a.reshape({12});
  const uint64_t v4 = a.version();
  EXPECT_EQ(copy.version(), v4);
  copy.f32()[0] = 1.0f;
  EXPECT_NE(a.version(), v4);
  EXPECT_EQ(view.version(), a.version());
  view.f32()[1] = 2.0f;
  EXPECT_EQ(copy.version(), a.version());
  EXPECT_EQ(std::as_const(a).f32()[1], 2.0f);

  // clone() and to() make new storages (new versions) and only read the source.
  const uint64_t v5 = a.version();
  Tensor c = a.clone();
  Tensor h = a.to(DType::BF16);
  EXPECT_EQ(a.version(), v5);
  EXPECT_NE(c.version(), v5);
  EXPECT_NE(h.version(), v5);
  EXPECT_EQ(Tensor().version(), 0u);
}

TEST(Bf16WeightCache, ConvertsOnlyWhenTheWeightChanged) {
  Tensor w(DType::F32, {5, 7});
  fill_normal(w.f32(), w.numel(), 1);
  Bf16WeightCache cache;
  auto expect_bits_of = [&](const uint16_t* got, const Tensor& t) {
    std::vector<uint16_t> want(static_cast<size_t>(t.numel()));
    convert_f32_to_bf16(std::as_const(t).f32(), want.data(), t.numel());
    ASSERT_EQ(std::memcmp(got, want.data(), want.size() * 2), 0);
  };
  int64_t n0 = Bf16WeightCache::total_conversions();
  expect_bits_of(cache.get(w), w);
  EXPECT_EQ(Bf16WeightCache::total_conversions(), n0 + 1);
  expect_bits_of(cache.get(std::as_const(w)), w);
  expect_bits_of(cache.get(w), w);
  EXPECT_EQ(Bf16WeightCache::total_conversions(), n0 + 1) << "unchanged weight converted again";

  w.f32()[3] = 100.0f;  // direct write
  expect_bits_of(cache.get(w), w);
  EXPECT_EQ(Bf16WeightCache::total_conversions(), n0 + 2);

  w.zero();
  expect_bits_of(cache.get(w), w);

  // Another tensor of the same size (e.g. a reloaded weight) is a different key even with no write.
  Tensor other(DType::F32, {5, 7});
  fill_normal(other.f32(), other.numel(), 2);
  n0 = Bf16WeightCache::total_conversions();
  expect_bits_of(cache.get(other), other);
  EXPECT_EQ(Bf16WeightCache::total_conversions(), n0 + 1);

  // A copied cache starts empty and never shares (and overwrites) the original's bf16 storage.
  Bf16WeightCache copy = cache;
  expect_bits_of(copy.get(w), w);
  expect_bits_of(cache.get(other), other);

  // A weight held in bf16 (nn/linear.h hold_weight_in_bf16) is its own bits; other dtypes are refused.
  Tensor bf(DType::BF16, {5, 7});
  EXPECT_EQ(cache.get(bf), std::as_const(bf).data_as<uint16_t>());
  Tensor i8(DType::I8, {5, 7});
  EXPECT_THROW(cache.get(i8), Error);
}

TEST(Bf16WeightCache, LinearSeesEveryWeightChange) {
  const int64_t rows = 6, in = 16, out = 12;
  Linear lin("m", in, out);
  fill_normal(lin.weight.value.f32(), lin.weight.value.numel(), 3);
  fill_normal(lin.bias.value.f32(), out, 4);
  std::vector<float> x(static_cast<size_t>(rows * in));
  fill_normal(x.data(), rows * in, 5);
  const OpContext ref16{Backend::Ref, Precision::BF16};

  EXPECT_TRUE(same_bits(run_forward(ref16, lin, x, rows), oracle_forward(lin, x, rows)));
  // Repeated forwards and backward's dx reuse the copy: no conversion.
  const int64_t n0 = Bf16WeightCache::total_conversions();
  std::vector<float> dy(static_cast<size_t>(rows * out)), dx(static_cast<size_t>(rows * in));
  fill_normal(dy.data(), rows * out, 6);
  run_forward(ref16, lin, x, rows);
  lin.backward(ref16, x.data(), dy.data(), dx.data(), rows);
  lin.backward(OpContext{Backend::Ref, Precision::F32}, x.data(), dy.data(), dx.data(), rows);  // fp32 reads too
  EXPECT_TRUE(same_bits(run_forward(ref16, lin, x, rows), oracle_forward(lin, x, rows)));
  EXPECT_EQ(Bf16WeightCache::total_conversions(), n0) << "reads of an unchanged weight re-converted it";

  // backward's dx uses the current weight as well.
  std::vector<float> want_dx(dx.size());
  GemmShape s;
  s.M = rows, s.N = in, s.K = out;
  lin.weight.value.f32()[0] = -3.0f;
  ref::gemm_bf16(s, dy.data(), std::as_const(lin.weight.value).f32(), nullptr, want_dx.data(), false);
  lin.backward(ref16, x.data(), dy.data(), dx.data(), rows);
  EXPECT_TRUE(same_bits(dx, want_dx)) << "dx used a stale bf16 weight";

  // Direct element writes, as a test or gradcheck pokes values.
  float* w = lin.weight.value.f32();
  for (int64_t i = 0; i < 10; ++i) w[i * 7] += 0.5f;
  EXPECT_TRUE(same_bits(run_forward(ref16, lin, x, rows), oracle_forward(lin, x, rows)));
  // zero() and a replaced value tensor (a loader assigning a new tensor).
  lin.weight.value.zero();
  EXPECT_TRUE(same_bits(run_forward(ref16, lin, x, rows), oracle_forward(lin, x, rows)));
  Tensor fresh(DType::F32, {out, in});
  fill_normal(fresh.f32(), fresh.numel(), 7);
  lin.weight.value = fresh;
  EXPECT_TRUE(same_bits(run_forward(ref16, lin, x, rows), oracle_forward(lin, x, rows)));
  // A write through another handle of the same storage.
  Tensor alias = fresh.reshape({out * in});
  alias.f32()[5] = 42.0f;
  EXPECT_TRUE(same_bits(run_forward(ref16, lin, x, rows), oracle_forward(lin, x, rows)));

  // The cpu backend (oneDNN bf16) takes the same cached copy: close to the oracle (summation order only).
  const std::vector<float> got = run_forward(OpContext{Backend::Cpu, Precision::BF16}, lin, x, rows);
  const std::vector<float> want = oracle_forward(lin, x, rows);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-4 * (1 + std::abs(want[i])));
}
