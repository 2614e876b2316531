// bf16 weight copies are re-made by every optimizer step (AdamW writes them in its pass) and reused otherwise: a bf16 model trained for a few
// AdamW steps gives logits bit-identical to a fresh model (no cache yet) holding the same fp32 weights — for BERT
// (Linear) and GPT-2 (Conv1D) — and a Conv1D's bf16 forward and dx equal the ref oracle that rounds the fp32
// weight itself. Inference over several batches converts each weight once (not once per forward).
#include <gtest/gtest.h>

#include <cstring>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "models/gpt2_conv1d.h"
#include "models/registry.h"
#include "nn/bf16_weight_cache.h"
#include "ops/matmul.h"
#include "train/adamw.h"
#include "models_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.nbytes() == b.nbytes() && std::memcmp(std::as_const(a).data(), std::as_const(b).data(), a.nbytes()) == 0;
}

// Trains `family` in bf16 for 3 AdamW steps, checking after each step that the logits equal those of a model built
// from scratch with the trained fp32 weights.
void check_trained_logits_match_fresh(const std::string& family) {
  const ModelConfig config = small_model_config(family);
  const OpContext bf16{Backend::Cpu, Precision::BF16};
  auto model = create_sequence_classifier(config, 11);
  model->set_op_context(bf16);
  AdamWOptions o;
  o.weight_decay = 0.01;
  AdamW opt(model->parameters(), o);
  const Batch train = small_padded_batch(4, 16, 1), probe = small_padded_batch(3, 12, 2);
  Rng rng(3);
  for (int step = 0; step < 3; ++step) {
    model->forward_backward(train, rng);
    opt.step(5e-2);  // large steps: every bf16 weight changes visibly
    opt.zero_grad();
    auto fresh = create_sequence_classifier(config, 99);
    fresh->set_op_context(bf16);
    const ParameterList src = model->parameters(), dst = fresh->parameters();
    ASSERT_EQ(src.size(), dst.size());
    for (size_t i = 0; i < src.size(); ++i) dst[i]->value = src[i]->value.clone();
    const Tensor got = model->forward(probe).logits, want = fresh->forward(probe).logits;
    ASSERT_TRUE(same_bits(got, want)) << family << ": logits after step " << step
                                      << " differ from a fresh model with the same weights (stale bf16 weights)";
  }
  // Between training steps AdamW refreshes each bf16 copy in its own pass (Parameter::bf16_cache), so a training
  // forward after a step converts nothing (the first one does: the inference above left the packed form instead).
  model->forward_backward(train, rng);
  opt.step_and_zero_grad(5e-2, 0.5f);
  const int64_t before = Bf16WeightCache::total_conversions();
  model->forward_backward(train, rng);
  EXPECT_EQ(Bf16WeightCache::total_conversions(), before) << family << ": a weight was converted again after a step "
                                                          << "instead of refreshed by AdamW";
  opt.zero_grad();
  auto fresh = create_sequence_classifier(config, 99);
  fresh->set_op_context(bf16);
  const ParameterList src = model->parameters(), dst = fresh->parameters();
  for (size_t i = 0; i < src.size(); ++i) dst[i]->value = src[i]->value.clone();
  ASSERT_TRUE(same_bits(model->forward(probe).logits, fresh->forward(probe).logits))
      << family << ": logits after the refreshed step differ from a fresh model with the same weights";
  // Inference reuses the copies: more forwards of an unchanged model convert nothing.
  const int64_t n0 = Bf16WeightCache::total_conversions();
  for (int i = 0; i < 3; ++i) model->forward(probe);
  EXPECT_EQ(Bf16WeightCache::total_conversions(), n0) << family;
}

void fill_normal(float* v, int64_t n, uint64_t seed) {
  Rng rng(seed);
  for (int64_t i = 0; i < n; ++i) v[i] = rng.normal();
}

}  // namespace

TEST(TrainWeightCache, BertLogitsAfterAdamWStepsMatchFreshModel) { check_trained_logits_match_fresh("bert"); }

TEST(TrainWeightCache, Gpt2LogitsAfterAdamWStepsMatchFreshModel) { check_trained_logits_match_fresh("gpt2"); }

TEST(TrainWeightCache, Conv1DBf16MatchesOracleAcrossAdamWStep) {
  const int64_t rows = 5, in = 12, out = 20;
  Conv1D conv("c", in, out);
  fill_normal(conv.weight.value.f32(), in * out, 1);
  fill_normal(conv.bias.value.f32(), out, 2);
  std::vector<float> x(static_cast<size_t>(rows * in)), dy(static_cast<size_t>(rows * out));
  fill_normal(x.data(), rows * in, 3);
  fill_normal(dy.data(), rows * out, 4);
  const OpContext ref16{Backend::Ref, Precision::BF16};
  AdamW opt({&conv.weight, &conv.bias}, AdamWOptions{});
  for (int step = 0; step < 2; ++step) {
    // Oracle: ref::gemm_bf16 rounds the fp32 weight itself. y = x·W + b; dx = dy·Wᵀ.
    const float* w = std::as_const(conv.weight.value).f32();
    std::vector<float> y(static_cast<size_t>(rows * out)), want_y(y.size());
    std::vector<float> dx(static_cast<size_t>(rows * in)), want_dx(dx.size());
    ref::gemm_bf16(GemmShape{1, rows, out, in, false, false}, x.data(), w, std::as_const(conv.bias.value).f32(),
                   want_y.data(), false);
    ref::gemm_bf16(GemmShape{1, rows, in, out, false, true}, dy.data(), w, nullptr, want_dx.data(), false);
    conv.forward(ref16, x.data(), y.data(), rows);
    conv.backward(ref16, x.data(), dy.data(), dx.data(), rows);
    EXPECT_EQ(std::memcmp(y.data(), want_y.data(), y.size() * 4), 0) << "step " << step;
    EXPECT_EQ(std::memcmp(dx.data(), want_dx.data(), dx.size() * 4), 0) << "step " << step;
    opt.step(0.1);
    opt.zero_grad();
  }
}
