// Packed weights (ops/packed_weight.h): a weight reordered once into oneDNN's blocked layout multiplies to the same
// numbers as the plain weight it came from — bit for bit — for every row count from 1 to 2,000 (the layout is asked
// once, at 32 rows, and must serve them all), for the bf16 and the u8·s8 product, a weight stored (N, K) or (K, N).
// Then the layers: a bf16 Linear and GPT-2's Conv1D multiply the packed form exactly when no backward follows
// (nn/scratch.h InferenceScratch), the bf16 cache holds one form at a time and re-packs when the weight changes, and a
// whole model's inference logits (packed) equal its training forward's (plain) bit for bit.
#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "core/dtype.h"
#include "core/rng.h"
#include "models/gpt2_conv1d.h"
#include "models/registry.h"
#include "models/transformer_classifier.h"
#include "models_test_util.h"
#include "nn/bf16_weight_cache.h"
#include "nn/fused_projection.h"
#include "nn/int8_weight.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "ops/matmul.h"
#include "ops/matmul_int8.h"
#include "ops/packed_weight.h"
#include "ops/precision.h"

using namespace accent;
using namespace accent::testing;

namespace {

const OpContext kCpuBf16{Backend::Cpu, Precision::BF16};

std::vector<float> random_values(int64_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = scale * rng.normal();
  return v;
}

bool same_bits(const void* a, const void* b, size_t bytes) { return std::memcmp(a, b, bytes) == 0; }

const std::vector<int64_t> kRowCounts = {1, 2, 7, 16, 25, 33, 64, 129, 830, 2000};

}  // namespace

TEST(PackedWeight, Bf16ProductEqualsThePlainOneForEveryRowCount) {
  if (!packed_bf16_weights_available(kCpuBf16)) GTEST_SKIP() << "no native bf16 matmul on this CPU";
  for (const bool trans_b : {true, false})
    for (const auto& [K, N] : std::vector<std::pair<int64_t, int64_t>>{{96, 50}, {768, 768}, {768, 3072}, {3072, 768}}) {
      SCOPED_TRACE(std::string(trans_b ? "B (N, K) " : "B (K, N) ") + std::to_string(K) + "×" + std::to_string(N));
      const std::vector<float> w = random_values(K * N, 2, 0.05f), bias = random_values(N, 3);
      std::vector<uint16_t> w16(w.size());
      convert_f32_to_bf16(w.data(), w16.data(), static_cast<int64_t>(w.size()));
      const PackedWeight packed = pack_weight_bf16(w16.data(), K, N, trans_b);
      ASSERT_FALSE(packed.empty());
      EXPECT_EQ(packed.K(), K);
      EXPECT_EQ(packed.N(), N);
      EXPECT_GE(packed.bytes(), K * N * 2);
      for (const int64_t M : kRowCounts) {
        SCOPED_TRACE("M=" + std::to_string(M));
        const std::vector<float> a = random_values(M * K, 10 + static_cast<uint64_t>(M));
        std::vector<float> plain(static_cast<size_t>(M * N)), got(plain.size(), -1.0f);
        GemmShape s;
        s.M = M, s.N = N, s.K = K, s.trans_b = trans_b;
        gemm_bf16_weights(kCpuBf16, s, a.data(), w16.data(), bias.data(), plain.data(), false);
        gemm_bf16_packed(kCpuBf16, M, a.data(), packed, bias.data(), got.data());
        ASSERT_TRUE(same_bits(plain.data(), got.data(), plain.size() * sizeof(float)))
            << "packed product differs from the plain one; max rel diff "
            << relative_diff(got.data(), plain.data(), M * N);
        if (M == 25) {  // and both are the bf16 product: near ref's triple loop on the same rounded operands
          std::vector<float> want(plain.size());
          gemm_bf16_weights(OpContext{Backend::Ref, Precision::BF16}, s, a.data(), w16.data(), bias.data(),
                            want.data(), false);
          EXPECT_LE(relative_diff(got.data(), want.data(), M * N), 1e-5);
        }
      }
    }
}

TEST(PackedWeight, U8S8ProductIsExactlyThePlainOne) {
  for (const bool trans_b : {true, false}) {
    SCOPED_TRACE(trans_b ? "B (N, K)" : "B (K, N)");
    const int64_t K = 768, N = 300;
    std::vector<int8_t> w(static_cast<size_t>(K * N));
    Rng rng(5);
    for (int8_t& v : w) v = static_cast<int8_t>(static_cast<int>(rng.uniform() * 255.0f) - 127);
    const PackedWeight packed = pack_weight_s8(w.data(), K, N, trans_b);
    for (const int64_t M : kRowCounts) {
      SCOPED_TRACE("M=" + std::to_string(M));
      std::vector<uint8_t> a(static_cast<size_t>(M * K));
      for (uint8_t& v : a) v = static_cast<uint8_t>(1 + static_cast<int>(rng.uniform() * 254.0f));
      std::vector<int32_t> plain(static_cast<size_t>(M * N)), got(plain.size(), -1);
      GemmShape s;
      s.M = M, s.N = N, s.K = K, s.trans_b = trans_b;
      cpu::gemm_u8s8(s, a.data(), w.data(), plain.data());
      cpu::gemm_u8s8_packed(M, a.data(), packed, got.data());
      ASSERT_EQ(got, plain) << "int32 sums are exact: the layouts must give the same numbers";
    }
  }
}

TEST(PackedWeight, Int8LayerMultipliesItsPackedValuesOnTheCpu) {
  // The same int8 weight through the cpu product (packed, made by the first forward) and through ref's triple loop.
  const int64_t K = 64, N = 48, M = 9;
  const std::vector<float> w = random_values(N * K, 7, 0.1f), x = random_values(M * K, 8), bias = random_values(N, 9);
  Tensor weight(DType::F32, {N, K});
  std::memcpy(weight.f32(), w.data(), w.size() * sizeof(float));
  const Int8Weight q = Int8Weight::quantize(weight, /*out_major=*/true);
  std::vector<float> cpu_y(static_cast<size_t>(M * N)), ref_y(cpu_y.size());
  q.forward(OpContext{Backend::Cpu, Precision::F32}, x.data(), bias.data(), cpu_y.data(), M);
  q.forward(OpContext{Backend::Ref, Precision::F32}, x.data(), bias.data(), ref_y.data(), M);
  EXPECT_LE(relative_diff(cpu_y.data(), ref_y.data(), M * N), 1e-6);
}

TEST(PackedWeight, CacheHoldsOneFormAndRepacksWhenTheWeightChanges) {
  if (!packed_bf16_weights_available(kCpuBf16)) GTEST_SKIP() << "no native bf16 matmul on this CPU";
  const int64_t N = 40, K = 24, M = 5;
  Tensor weight(DType::F32, {N, K});
  const std::vector<float> w = random_values(N * K, 1);
  std::memcpy(weight.f32(), w.data(), w.size() * sizeof(float));
  const std::vector<float> x = random_values(M * K, 2);
  Bf16WeightCache cache;
  const int64_t c0 = Bf16WeightCache::total_conversions();
  const PackedWeight* p1 = &cache.packed(std::as_const(weight), true);
  EXPECT_EQ(Bf16WeightCache::total_conversions() - c0, 1);
  cache.packed(std::as_const(weight), true);
  EXPECT_EQ(Bf16WeightCache::total_conversions() - c0, 1) << "an unchanged weight is packed once";
  std::vector<float> y1(static_cast<size_t>(M * N)), y2(y1.size()), y_plain(y1.size());
  gemm_bf16_packed(kCpuBf16, M, x.data(), *p1, nullptr, y1.data());
  // The plain form: converted again (the packed one is released).
  GemmShape s;
  s.M = M, s.N = N, s.K = K, s.trans_b = true;
  gemm_bf16_weights(kCpuBf16, s, x.data(), cache.get(std::as_const(weight)), nullptr, y_plain.data(), false);
  EXPECT_EQ(Bf16WeightCache::total_conversions() - c0, 2);
  EXPECT_TRUE(same_bits(y1.data(), y_plain.data(), y1.size() * sizeof(float)));
  // A changed weight is packed again, with its new values.
  weight.f32()[3] += 1.0f;
  gemm_bf16_packed(kCpuBf16, M, x.data(), cache.packed(std::as_const(weight), true), nullptr, y2.data());
  EXPECT_EQ(Bf16WeightCache::total_conversions() - c0, 3);
  std::vector<float> want(y1.size());
  gemm_bf16_weights(OpContext{Backend::Ref, Precision::BF16}, s, x.data(), cache.get(std::as_const(weight)), nullptr,
                    want.data(), false);
  EXPECT_LE(relative_diff(y2.data(), want.data(), M * N), 1e-5);
  EXPECT_FALSE(same_bits(y1.data(), y2.data(), y1.size() * sizeof(float)));
}

TEST(PackedWeight, LayersMultiplyThePackedFormOnlyWhenNoBackwardFollows) {
  if (!packed_bf16_weights_available(kCpuBf16)) GTEST_SKIP() << "no native bf16 matmul on this CPU";
  const int64_t in = 32, out = 20, rows = 6;
  const std::vector<float> x = random_values(rows * in, 4);
  Linear linear("lin", in, out);
  Conv1D conv("conv", in, out);
  const std::vector<float> wl = random_values(in * out, 5), wc = random_values(in * out, 6),
                           b = random_values(out, 7);
  std::memcpy(linear.weight.value.f32(), wl.data(), wl.size() * sizeof(float));
  std::memcpy(conv.weight.value.f32(), wc.data(), wc.size() * sizeof(float));
  std::memcpy(linear.bias.value.f32(), b.data(), b.size() * sizeof(float));
  std::memcpy(conv.bias.value.f32(), b.data(), b.size() * sizeof(float));
  std::vector<float> train_l(static_cast<size_t>(rows * out)), train_c(train_l.size()), infer_l(train_l.size()),
      infer_c(train_l.size());
  linear.forward(kCpuBf16, x.data(), train_l.data(), rows);
  conv.forward(kCpuBf16, x.data(), train_c.data(), rows);
  const int64_t c0 = Bf16WeightCache::total_conversions();
  {
    const InferenceScratch no_backward;
    EXPECT_TRUE(forward_uses_packed_weight(kCpuBf16, linear.weight.value));
    linear.forward(kCpuBf16, x.data(), infer_l.data(), rows);
    conv.forward(kCpuBf16, x.data(), infer_c.data(), rows);
  }
  EXPECT_EQ(Bf16WeightCache::total_conversions() - c0, 2) << "each layer packed its weight";
  EXPECT_TRUE(same_bits(train_l.data(), infer_l.data(), train_l.size() * sizeof(float)));
  EXPECT_TRUE(same_bits(train_c.data(), infer_c.data(), train_c.size() * sizeof(float)));
  EXPECT_FALSE(forward_uses_packed_weight(kCpuBf16, linear.weight.value)) << "training forwards read the plain form";
  EXPECT_FALSE(forward_uses_packed_weight(OpContext{Backend::Cpu, Precision::F32}, linear.weight.value));
  linear.weight.trainable = false;
  linear.hold_weight_in_bf16();
  const InferenceScratch no_backward;
  EXPECT_FALSE(forward_uses_packed_weight(kCpuBf16, linear.weight.value)) << "a weight held in bf16 stays plain";
}

TEST(PackedWeight, ModelInferenceLogitsEqualTheTrainingForwardOnes) {
  if (!packed_bf16_weights_available(kCpuBf16)) GTEST_SKIP() << "no native bf16 matmul on this CPU";
  for (const std::string family : {"bert", "gpt2", "qwen2"}) {
    SCOPED_TRACE(family);
    auto model = create_sequence_classifier(small_model_config(family), 3);
    model->set_op_context(kCpuBf16);
    const Batch batch = small_padded_batch(3, 10, 5);
    auto* tc = dynamic_cast<TransformerClassifier*>(model.get());
    ASSERT_NE(tc, nullptr);
    tc->set_keep_layer_activations(true);  // a forward that a backward may follow: plain weights
    const Tensor plain = model->forward(batch).logits.clone();
    tc->set_keep_layer_activations(false);  // inference: packed weights
    const Tensor packed = model->forward(batch).logits.clone();
    ASSERT_EQ(plain.numel(), packed.numel());
    EXPECT_TRUE(same_bits(plain.f32(), packed.f32(), static_cast<size_t>(plain.numel()) * sizeof(float)))
        << relative_diff(packed, plain);
  }
}

TEST(FusedProjection, StackedProductEqualsTheSeparateLayersAndFollowsTheirChanges) {
  const int64_t in = 64, rows = 7;
  std::vector<Linear> layers{Linear("q", in, 64), Linear("k", in, 64), Linear("v", in, 32, /*bias=*/false)};
  Rng rng(12);
  for (Linear& l : layers) {
    for (int64_t i = 0; i < l.weight.value.numel(); ++i) l.weight.value.f32()[i] = 0.2f * rng.normal();
    if (l.has_bias())
      for (int64_t i = 0; i < l.bias.value.numel(); ++i) l.bias.value.f32()[i] = 0.1f * rng.normal();
  }
  const std::vector<const Linear*> parts{&layers[0], &layers[1], &layers[2]};
  const std::vector<float> x = random_values(rows * in, 13);
  // y (rows, 160): each layer's own forward, side by side.
  auto separate = [&](const OpContext& ctx) {
    std::vector<float> y(static_cast<size_t>(rows * 160)), part;
    int64_t col = 0;
    for (const Linear* l : parts) {
      part.assign(static_cast<size_t>(rows * l->out_features()), 0.0f);
      l->forward(ctx, x.data(), part.data(), rows);
      for (int64_t r = 0; r < rows; ++r)
        std::copy(part.begin() + r * l->out_features(), part.begin() + (r + 1) * l->out_features(),
                  y.begin() + r * 160 + col);
      col += l->out_features();
    }
    return y;
  };
  FusedProjection fused;
  std::vector<float> y(static_cast<size_t>(rows * 160));
  EXPECT_FALSE(FusedProjection::available(kCpuBf16, parts)) << "a training forward keeps the layers apart";
  if (packed_bf16_weights_available(kCpuBf16)) {
    const InferenceScratch no_backward;
    ASSERT_TRUE(FusedProjection::available(kCpuBf16, parts));
    fused.forward(kCpuBf16, parts, x.data(), y.data(), rows);
    EXPECT_EQ(y, separate(kCpuBf16)) << "bf16: the stacked product differs from the layers'";
    layers[1].weight.value.f32()[5] += 1.0f;  // a changed part: the stacked weight is made again
    fused.forward(kCpuBf16, parts, x.data(), y.data(), rows);
    EXPECT_EQ(y, separate(kCpuBf16)) << "bf16: the stacked weight did not follow the change";
  }
  // int8 (any precision: the layers' int8 weights), x quantized once for all three.
  const OpContext cpu{Backend::Cpu, Precision::F32};
  for (Linear& l : layers) l.set_int8_weight(Int8Weight::quantize(std::as_const(l.weight.value), true));
  ASSERT_TRUE(FusedProjection::available(cpu, parts));
  fused.forward(cpu, parts, x.data(), y.data(), rows);
  EXPECT_EQ(y, separate(cpu)) << "int8: the stacked product differs from the layers'";
  layers[2].weight.value.f32()[0] += 1.0f;
  layers[2].set_int8_weight(Int8Weight::quantize(std::as_const(layers[2].weight.value), true));
  fused.forward(cpu, parts, x.data(), y.data(), rows);
  EXPECT_EQ(y, separate(cpu)) << "int8: the stacked weight did not follow a re-quantized part";
  EXPECT_FALSE(FusedProjection::available(OpContext{Backend::Ref, Precision::F32}, parts));
  Linear wider("w", in + 1, 8);
  EXPECT_FALSE(FusedProjection::available(cpu, {&layers[0], &wider})) << "different inputs are never fused";
}
