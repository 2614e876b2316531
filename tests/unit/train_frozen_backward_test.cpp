// Backward skips work no trainable tensor needs: BertEncoder::backward without an input gradient (dx0 null, as when
// the embeddings are frozen) stops at the lowest layer holding a trainable parameter or LoRA adapter and does not
// deliver that layer's input gradient. Oracle: the same encoder's full backward (dx0 wanted, every layer run) —
// every trainable gradient must be bit-identical, the frozen tensors untouched, and the skipped layers must not
// have run (BertLayer::backward_runs counts the layers that did). Cases: --freeze-layers 2 of 3; LoRA (query,
// value) in every layer over a frozen base; a layer whose attention is frozen but whose feed-forward trains.
#include <gtest/gtest.h>

#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/rng.h"
#include "models/bert_encoder.h"
#include "nn/freeze.h"
#include "nn/lora.h"
#include "nn/parameter_init.h"

using namespace accent;

namespace {

BertDims tiny_dims() {
  BertDims d;
  d.V = 50, d.H = 32, d.L = 3, d.NH = 4, d.I = 64, d.P = 32, d.TV = 2, d.C = 2;
  d.hidden_dropout = 0.1f, d.attention_dropout = 0.1f;
  return d;
}

constexpr int64_t kB = 2, kT = 7;

struct EncoderUnderTest {
  std::unique_ptr<BertEncoder> encoder;
  std::vector<std::unique_ptr<LoraAdapter>> adapters;
  ParameterList params;  // encoder parameters, then adapter matrices
};

// A random-weight encoder; `configure` freezes parameters / attaches adapters.
template <typename Configure>
EncoderUnderTest make_setup(Configure configure) {
  EncoderUnderTest s;
  s.encoder = std::make_unique<BertEncoder>("encoder", tiny_dims());
  ParameterList base;
  s.encoder->collect(base);
  const Rng root(17);
  for (size_t i = 0; i < base.size(); ++i) {
    const bool norm = base[i]->name.find("LayerNorm") != std::string::npos;
    if (norm && base[i]->name.find(".weight") != std::string::npos)
      init_constant(*base[i], 1.0f);
    else
      init_normal(*base[i], 0.3f, root.fork(i));
  }
  configure(s);
  s.encoder->collect(s.params);
  for (auto& a : s.adapters) a->collect(s.params);
  return s;
}

void freeze_layer(BertLayer& layer) {
  ParameterList p;
  layer.collect(p);
  for (Parameter* q : p) freeze(*q);
}

void add_lora(EncoderUnderTest& s, Linear& target, uint64_t seed) {
  LoraHyper h;
  h.r = 4, h.alpha = 8;
  auto a = std::make_unique<LoraAdapter>(target.weight.name.substr(0, target.weight.name.size() - 7),
                                         target.in_features(), target.out_features(), h);
  a->init(Rng(seed));
  for (int64_t i = 0; i < a->B.value.numel(); ++i) a->B.value.f32()[i] = 0.05f * static_cast<float>(i % 7 - 3);
  target.lora = a.get();
  s.adapters.push_back(std::move(a));
}

struct StepResult {
  std::map<std::string, std::vector<float>> grads;  // trainable parameters only
  std::map<std::string, std::vector<float>> values;
  int64_t layers_run = 0;  // BertLayer backward passes
};

// One forward (dropout on) + backward; dx0 wanted or not.
StepResult run_step(EncoderUnderTest& s, bool want_dx0) {
  const int64_t n = kB * kT * tiny_dims().H;
  std::vector<float> x0(static_cast<size_t>(n)), dlast(static_cast<size_t>(n)), dx0(static_cast<size_t>(n));
  Rng data(5);
  for (auto& v : x0) v = data.normal();
  for (auto& v : dlast) v = data.normal();
  for (Parameter* p : s.params)
    if (p->trainable) p->grad.zero();
  const OpContext ctx{Backend::Cpu, Precision::F32};
  Rng dropout(9);
  for (auto& a : s.adapters) a->set_dropout_rng(&dropout);
  s.encoder->forward(ctx, x0.data(), nullptr, kB, kT, &dropout);
  const int64_t runs_before = BertLayer::backward_runs();
  s.encoder->backward(ctx, x0.data(), dlast.data(), want_dx0 ? dx0.data() : nullptr, kB, kT);
  StepResult r;
  r.layers_run = BertLayer::backward_runs() - runs_before;
  for (Parameter* p : s.params) {
    const float* v = std::as_const(p->value).f32();
    r.values[p->name].assign(v, v + p->value.numel());
    if (p->trainable) {
      const float* g = std::as_const(p->grad).f32();
      r.grads[p->name].assign(g, g + p->grad.numel());
    }
  }
  return r;
}

// Fresh encoders for the skipping and the full run.
template <typename Configure>
void check_case(Configure configure, int64_t expect_lowest) {
  EncoderUnderTest skip = make_setup(configure), full = make_setup(configure);
  EXPECT_EQ(skip.encoder->lowest_trainable_layer(), expect_lowest);
  const StepResult a = run_step(skip, /*want_dx0=*/false);
  const StepResult b = run_step(full, /*want_dx0=*/true);
  ASSERT_EQ(a.grads.size(), b.grads.size());
  ASSERT_FALSE(a.grads.empty());
  for (const auto& [name, g] : b.grads) {
    const auto& got = a.grads.at(name);
    ASSERT_EQ(got.size(), g.size());
    EXPECT_EQ(std::memcmp(got.data(), g.data(), g.size() * sizeof(float)), 0) << name << ": gradient differs";
    bool nonzero = false;
    for (float v : g) nonzero = nonzero || v != 0.0f;
    EXPECT_TRUE(nonzero) << name << ": gradient all zero (test would not see a difference)";
  }
  for (const auto& [name, v] : b.values) EXPECT_EQ(a.values.at(name), v) << name;
  // The layers below the lowest trainable one never ran their backward; the full run ran every layer.
  const int64_t L = static_cast<int64_t>(skip.encoder->layers.size());
  EXPECT_EQ(a.layers_run, L - expect_lowest);
  EXPECT_EQ(b.layers_run, L);
}

}  // namespace

TEST(FrozenBackward, FreezeLayersStopsAtLowestTrainableLayer) {
  check_case([](EncoderUnderTest& s) { freeze_layer(*s.encoder->layers[0]), freeze_layer(*s.encoder->layers[1]); }, 2);
}

TEST(FrozenBackward, LoraOverFrozenBaseSkipsLowestInputGradient) {
  check_case(
      [](EncoderUnderTest& s) {
        for (auto& layer : s.encoder->layers) freeze_layer(*layer);
        uint64_t seed = 1;
        for (auto& layer : s.encoder->layers) {
          add_lora(s, layer->attention.self.query, seed++);
          add_lora(s, layer->attention.self.value, seed++);
        }
      },
      0);
}

TEST(FrozenBackward, FrozenAttentionUnderTrainableFeedForward) {
  check_case(
      [](EncoderUnderTest& s) {
        freeze_layer(*s.encoder->layers[0]);
        ParameterList attention;
        s.encoder->layers[1]->attention.collect(attention);
        for (Parameter* p : attention) freeze(*p);
      },
      1);
}

TEST(FrozenBackward, NothingTrainableRunsNoLayer) {
  EncoderUnderTest s = make_setup([](EncoderUnderTest& st) {
    for (auto& layer : st.encoder->layers) freeze_layer(*layer);
  });
  EXPECT_EQ(s.encoder->lowest_trainable_layer(), 3);
  const StepResult r = run_step(s, /*want_dx0=*/false);
  EXPECT_EQ(r.layers_run, 0);
}
