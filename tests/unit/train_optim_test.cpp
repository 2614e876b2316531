// Tests for train/: AdamW, LR schedules and gradient clipping against PyTorch (tests/reference/train_oracle.py
// run by /usr/bin/python3: torch.optim.AdamW, LambdaLR, clip_grad_norm_).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "core/rng.h"
#include "train/adamw.h"
#include "train/grad_clip.h"
#include "train/lr_schedule.h"

using namespace accent;
using json = nlohmann::json;

namespace {

std::string temp_dir(const std::string& name) {
  auto dir = std::filesystem::temp_directory_path() / ("accent_train_optim_" + name + "_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  return dir.string();
}

// Runs the Python oracle on `input` and returns its JSON output.
json run_oracle(const std::string& task, const json& input) {
  const std::string dir = temp_dir(task);
  write_file_atomic(dir + "/in.json", input.dump());
  const std::string cmd = "/usr/bin/python3 " ACCENT_SOURCE_DIR "/tests/reference/train_oracle.py " + task + " " + dir +
                          "/in.json " + dir + "/out.json";
  const int rc = std::system(cmd.c_str());
  if (rc != 0) throw std::runtime_error("oracle failed: " + cmd);
  json out = json::parse(read_file(dir + "/out.json"));
  std::filesystem::remove_all(dir);
  return out;
}

Parameter make_param(const std::string& name, Shape shape, bool decay, bool trainable, Rng& rng) {
  Parameter p;
  p.name = name;
  p.value = Tensor::zeros(shape);
  p.grad = Tensor::zeros(shape);
  p.decay = decay;
  p.trainable = trainable;
  for (int64_t i = 0; i < p.value.numel(); ++i) p.value.f32()[i] = rng.normal();
  return p;
}

std::vector<float> values_of(const Tensor& t) { return std::vector<float>(t.f32(), t.f32() + t.numel()); }

// max over elements of |a − b| / max(|b|, floor)
double max_rel_err(const float* a, const std::vector<double>& b, double floor) {
  double worst = 0;
  for (size_t i = 0; i < b.size(); ++i)
    worst = std::max(worst, std::fabs(a[i] - b[i]) / std::max(std::fabs(b[i]), floor));
  return worst;
}

}  // namespace

TEST(LrSchedule, MatchesTorchLambdaLR) {
  struct Case { std::string type; int64_t warmup, total, steps; double base_lr; };
  const std::vector<Case> cases = {
      {"linear", 0, 20, 23, 5e-5},  {"linear", 5, 20, 23, 1e-3},   {"linear", 30, 20, 25, 2e-5},
      {"cosine", 0, 17, 19, 5e-5},  {"cosine", 4, 17, 19, 3e-4},   {"constant", 0, 10, 12, 5e-5},
      {"constant", 3, 10, 12, 5e-5}, {"constant_with_warmup", 6, 10, 12, 1e-4}, {"constant_with_warmup", 0, 10, 4, 1e-4},
      {"linear", 1, 1, 3, 5e-5},    {"cosine", 3, 3, 5, 5e-5}};
  json in;
  for (const Case& c : cases)
    in["cases"].push_back({{"type", c.type}, {"warmup", c.warmup}, {"total", c.total}, {"steps", c.steps},
                           {"base_lr", c.base_lr}});
  const json out = run_oracle("schedule", in);
  ASSERT_EQ(out["lrs"].size(), cases.size());
  for (size_t k = 0; k < cases.size(); ++k) {
    const Case& c = cases[k];
    LrSchedule s(parse_lr_scheduler_type(c.type), c.base_lr, c.warmup, c.total);
    for (int64_t step = 0; step < c.steps; ++step) {
      const double expected = out["lrs"][k][step].get<double>();
      EXPECT_NEAR(s.lr_at(step), expected, 1e-15 + 1e-13 * std::fabs(expected))
          << c.type << " warmup " << c.warmup << " total " << c.total << " step " << step;
    }
  }
}

TEST(LrSchedule, WarmupRatioIsCeilOfTotal) {
  EXPECT_EQ(resolve_warmup_steps(0, 0.1, 95), 10);  // ceil(9.5)
  EXPECT_EQ(resolve_warmup_steps(0, 0.1, 100), 10);
  EXPECT_EQ(resolve_warmup_steps(0, 0.0, 100), 0);
  EXPECT_EQ(resolve_warmup_steps(7, 0.5, 100), 7);  // warmup_steps wins when > 0
  EXPECT_THROW(parse_lr_scheduler_type("polynomial_typo"), Error);
}

TEST(GradClip, MatchesTorchDefinition) {
  Rng rng(7);
  Parameter a = make_param("a", {3, 4}, true, true, rng), b = make_param("b", {5}, false, true, rng);
  Parameter frozen = make_param("f", {6}, true, false, rng);
  for (Parameter* p : {&a, &b, &frozen})
    for (int64_t i = 0; i < p->grad.numel(); ++i) p->grad.f32()[i] = 2.0f * rng.normal();
  frozen.grad.f32()[0] = 1e6f;  // frozen parameters do not count
  double sq = 0;
  for (Parameter* p : {&a, &b})
    for (int64_t i = 0; i < p->grad.numel(); ++i) sq += double(p->grad.f32()[i]) * p->grad.f32()[i];
  const std::vector<float> before = values_of(a.grad);
  const double total = clip_grad_norm({&a, &b, &frozen}, 1.0);
  EXPECT_NEAR(total, std::sqrt(sq), 1e-5 * std::sqrt(sq));
  const float coef = 1.0f / (static_cast<float>(total) + 1e-6f);
  for (int64_t i = 0; i < a.grad.numel(); ++i) EXPECT_FLOAT_EQ(a.grad.f32()[i], before[i] * coef);
  EXPECT_NEAR(grad_global_norm({&a, &b}), 1.0, 1e-5);
  // Below the limit nothing changes.
  const std::vector<float> small = values_of(a.grad);
  clip_grad_norm({&a, &b}, 100.0);
  EXPECT_EQ(values_of(a.grad), small);
}

// 12 steps of HF-style AdamW (two parameter groups, a frozen parameter, warmup + linear decay, clipping that
// triggers on some steps) in accent and in torch; parameters must agree after every step.
TEST(AdamW, MatchesTorchOverTwelveSteps) {
  Rng rng(2024);
  std::vector<Parameter> params;
  params.push_back(make_param("encoder.dense.weight", {6, 5}, true, true, rng));
  params.push_back(make_param("encoder.dense.bias", {6}, false, true, rng));
  params.push_back(make_param("encoder.LayerNorm.weight", {6}, false, true, rng));
  params.push_back(make_param("embeddings.frozen.weight", {4, 3}, true, false, rng));
  params.push_back(make_param("classifier.weight", {3, 6}, true, true, rng));
  ParameterList list;
  for (Parameter& p : params) list.push_back(&p);

  const int64_t steps = 12, warmup = 3;
  const double base_lr = 2e-2, wd = 0.1, max_norm = 1.0;
  json in = {{"base_lr", base_lr}, {"beta1", 0.9}, {"beta2", 0.999}, {"eps", 1e-8}, {"weight_decay", wd},
             {"schedule", "linear"}, {"warmup", warmup}, {"total", steps}, {"max_grad_norm", max_norm}};
  for (const Parameter& p : params)
    in["params"].push_back({{"name", p.name}, {"shape", p.value.shape()}, {"value", values_of(p.value)},
                            {"decay", p.decay}, {"trainable", p.trainable}});
  // Gradients: scale varies so that the global norm is sometimes below and sometimes above max_norm.
  std::vector<std::vector<std::vector<float>>> grads(steps);
  for (int64_t s = 0; s < steps; ++s) {
    const float scale = (s % 3 == 0) ? 0.05f : 0.8f;
    for (const Parameter& p : params) {
      if (!p.trainable) continue;
      std::vector<float> g(p.value.numel());
      for (float& x : g) x = scale * rng.normal();
      grads[s].push_back(g);
    }
    in["grads"].push_back(grads[s]);
  }
  const json out = run_oracle("adamw", in);

  AdamW opt(list, AdamWOptions{0.9, 0.999, 1e-8, wd});
  LrSchedule sched(LrSchedulerType::Linear, base_lr, warmup, steps);
  double worst = 0;
  int clipped_steps = 0;
  for (int64_t s = 0; s < steps; ++s) {
    size_t k = 0;
    for (Parameter& p : params)
      if (p.trainable) std::copy(grads[s][k].begin(), grads[s][k].end(), p.grad.f32()), ++k;
    const double norm = clip_grad_norm(list, max_norm);
    const json& ref = out["steps"][s];
    EXPECT_NEAR(norm, ref["grad_norm"].get<double>(), 1e-6 * ref["grad_norm"].get<double>()) << "step " << s;
    clipped_steps += norm > max_norm;
    EXPECT_NEAR(sched.lr_at(s), ref["lr"].get<double>(), 1e-15) << "step " << s;
    opt.step(sched.lr_at(s));
    opt.zero_grad();
    for (size_t i = 0; i < params.size(); ++i) {
      const std::vector<double> expected = ref["params"][i].get<std::vector<double>>();
      const double err = max_rel_err(params[i].value.f32(), expected, 1e-3);
      worst = std::max(worst, err);
      EXPECT_LE(err, 1e-6) << params[i].name << " after step " << s + 1;
    }
  }
  EXPECT_GT(clipped_steps, 0);
  EXPECT_LT(clipped_steps, steps);
  std::printf("AdamW vs torch: max relative parameter error over %lld steps = %.3g\n", (long long)steps, worst);
  // Frozen parameter untouched and without state; optimizer state matches torch's.
  EXPECT_EQ(opt.step_count(), steps);
  const auto state = opt.state_tensors();
  EXPECT_EQ(state.count("embeddings.frozen.weight.exp_avg"), 0u);
  EXPECT_EQ(state.size(), 8u);
  size_t k = 0;
  for (const Parameter& p : params) {
    if (!p.trainable) continue;
    const json& ref = out["state"][k++];
    EXPECT_LE(max_rel_err(state.at(p.name + ".exp_avg").f32(), ref["exp_avg"].get<std::vector<double>>(), 1e-4), 1e-5);
    EXPECT_LE(max_rel_err(state.at(p.name + ".exp_avg_sq").f32(), ref["exp_avg_sq"].get<std::vector<double>>(), 1e-6),
              1e-5);
    EXPECT_EQ(ref["step"].get<double>(), static_cast<double>(steps));
  }
}

TEST(AdamW, StateRoundTripContinuesIdentically) {
  Rng rng(5);
  auto make = [&](uint64_t seed) {
    Rng r(seed);
    std::vector<Parameter> v;
    v.push_back(make_param("w", {4, 4}, true, true, r));
    v.push_back(make_param("b", {4}, false, true, r));
    return v;
  };
  std::vector<Parameter> a = make(1), b = make(1);
  ParameterList la{&a[0], &a[1]}, lb{&b[0], &b[1]};
  AdamW oa(la, {0.9, 0.999, 1e-8, 0.01}), ob(lb, {0.9, 0.999, 1e-8, 0.01});
  auto fill = [&](ParameterList& l, uint64_t seed) {
    Rng g(seed);
    for (Parameter* p : l)
      for (int64_t i = 0; i < p->grad.numel(); ++i) p->grad.f32()[i] = g.normal();
  };
  for (int s = 0; s < 3; ++s) fill(la, 100 + s), oa.step(1e-2), fill(lb, 100 + s), ob.step(1e-2);
  // Rebuild b's optimizer from a's state (deep copies) and continue both.
  std::map<std::string, Tensor> saved;
  for (auto& [k, t] : oa.state_tensors()) saved[k] = t.clone();
  AdamW restored(lb, {0.9, 0.999, 1e-8, 0.01});
  restored.load_state(saved, oa.step_count(), "test");
  for (int s = 3; s < 6; ++s) fill(la, 100 + s), oa.step(1e-2), fill(lb, 100 + s), restored.step(1e-2);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(0, std::memcmp(a[i].value.data(), b[i].value.data(), a[i].value.nbytes())) << a[i].name;
  std::map<std::string, Tensor> missing = saved;
  missing.erase("w.exp_avg");
  EXPECT_THROW(restored.load_state(missing, 3, "ckpt"), Error);
}

// The trainer's fused step (the norm, then clip + AdamW + zero_grad in one pass over each parameter) against the
// three separate calls: the same bits in parameters and state, on the cpu and ref backends, with a tensor large
// enough for the threaded vector loop, clipping on some steps only, and every gradient zero afterwards.
TEST(AdamW, FusedClipStepZeroGradEqualsTheSeparateCalls) {
  for (Backend backend : {Backend::Cpu, Backend::Ref}) {
    const OpContext ctx{backend, Precision::F32};
    auto make = [] {
      Rng r(11);
      std::vector<Parameter> v;
      v.push_back(make_param("big.weight", {300, 257}, true, true, r));
      v.push_back(make_param("big.bias", {300}, false, true, r));
      v.push_back(make_param("frozen", {7}, true, false, r));
      return v;
    };
    std::vector<Parameter> a = make(), b = make();
    ParameterList la{&a[0], &a[1], &a[2]}, lb{&b[0], &b[1], &b[2]};
    AdamW separate(la, {0.9, 0.999, 1e-8, 0.01}, ctx), fused(lb, {0.9, 0.999, 1e-8, 0.01}, ctx);
    const double max_norm = 1.0;
    int clipped = 0;
    for (int s = 0; s < 6; ++s) {
      const float scale = s % 2 == 0 ? 1e-4f : 0.5f;  // the global norm below, then above max_norm
      for (ParameterList* l : {&la, &lb}) {
        Rng g(200 + s);
        for (Parameter* p : *l)
          for (int64_t i = 0; i < p->grad.numel(); ++i) p->grad.f32()[i] = scale * g.normal();
      }
      const double norm_a = clip_grad_norm(la, max_norm, ctx);
      separate.step(1e-3);
      separate.zero_grad();
      const double norm_b = grad_global_norm(lb, ctx);
      EXPECT_EQ(norm_a, norm_b);
      clipped += clip_coefficient(norm_b, max_norm) < 1.0f;
      fused.step_and_zero_grad(1e-3, clip_coefficient(norm_b, max_norm));
      for (int i = 0; i < 2; ++i) {
        ASSERT_EQ(0, std::memcmp(a[i].value.data(), b[i].value.data(), a[i].value.nbytes()))
            << a[i].name << " after step " << s + 1 << " on " << backend_name(backend);
        for (int64_t k = 0; k < b[i].grad.numel(); ++k) ASSERT_EQ(b[i].grad.f32()[k], 0.0f) << b[i].name;
      }
    }
    EXPECT_EQ(clipped, 3);
    const auto sa = separate.state_tensors(), sb = fused.state_tensors();
    for (const auto& [name, t] : sa) EXPECT_EQ(0, std::memcmp(t.data(), sb.at(name).data(), t.nbytes())) << name;
  }
}

TEST(GradClip, CoefficientIsTorchsClampedFactor) {
  EXPECT_EQ(clip_coefficient(4.0, 1.0), 1.0f / (4.0f + 1e-6f));
  EXPECT_EQ(clip_coefficient(0.5, 1.0), 1.0f);   // below the limit: unchanged
  EXPECT_EQ(clip_coefficient(4.0, 0.0), 1.0f);   // max_norm <= 0 only measures
  EXPECT_EQ(clip_coefficient(NAN, 1.0), 1.0f);   // non-finite: the caller decides
}

TEST(AdamW, RefusesAParameterListedTwice) {
  Rng rng(3);
  Parameter w = make_param("w", {2, 2}, true, true, rng);
  try {
    AdamW opt({&w, &w}, AdamWOptions{});
    FAIL() << "a parameter listed twice was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("parameter w is listed twice"), std::string::npos) << e.what();
  }
}
