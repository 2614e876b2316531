// The twin comparison shared by models_bert_twin_test.cpp and models_bert_base_twin_test.cpp.
//
// Proof of exactness: accent's BertForSequenceClassification against a PyTorch twin (tests/reference/bert_twin.py,
// HF's math in torch) on the same safetensors, dropout off. For each problem type: logits ≤ 1e-5 absolute and
// loss ≤ 1e-5 relative against PyTorch fp32; every parameter gradient within 1e-4 relative.
//
// "Relative" for gradients, defined robustly, per tensor:  max|a − b| / max(max|b|, tiny)  with
// tiny = 1e-3 × the largest gradient anywhere in the model. The floor matters for attention query/key gradients
// of saturated deep layers, whose exact values are ~1e-7 of the model's gradient scale (and the key bias's exact
// gradient is 0: softmax is shift-invariant): there PyTorch fp32 itself is 20–70% away from the exact value.
// Each gradient is compared both with PyTorch fp32 (what HF computes) and with the exact answer: the twin also
// computes everything in float64 from the same fp32 weights.
#pragma once
#include <gtest/gtest.h>

#include "models/classification_loss.h"
#include "models/registry.h"
#include "models/transformer_classifier.h"
#include "models_test_util.h"

namespace accent::testing {

struct TwinCase {
  std::string preset, problem, act;
  Backend backend;
};

// Per-token logits (B, T, C) with the padded positions' rows zeroed (attention_mask 0), for families whose padded
// rows HF computes differently (DeBERTa-v2: a uniform attention row) while no loss reads them.
inline Tensor real_token_logits(const Tensor& logits, const Batch& batch) {
  Tensor out = logits.clone();
  const int64_t rows = batch.B * batch.T, C = logits.numel() / rows;
  for (int64_t r = 0; r < rows; ++r)
    if (!batch.attention_mask.empty() && batch.attention_mask[static_cast<size_t>(r)] == 0)
      for (int64_t c = 0; c < C; ++c) out.f32()[r * C + c] = 0.0f;
  return out;
}

// Loads the model the twin wrote into `dir` and compares logits, loss and every gradient with expected.safetensors.
// real_tokens_only: per-token logits are compared on the real tokens (see real_token_logits).
inline void check_dir_against_expected(const TempDir& dir, Backend backend, const std::string& label,
                                       bool real_tokens_only = false) {
  LoadOptions opts;
  opts.print_warnings = false;
  LoadReport report;
  auto model = load_sequence_classifier(dir.str(), opts, &report);
  EXPECT_TRUE(report.missing_keys.empty());
  EXPECT_TRUE(report.unexpected_keys.empty());
  model->set_op_context(OpContext{backend, Precision::F32});
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  auto expected = SafetensorsFile::open(dir / "expected.safetensors");

  // Inference path: logits and loss.
  const bool masked = real_tokens_only && expected->load("logits").shape().size() == 3;
  auto comparable = [&](const Tensor& logits) { return masked ? real_token_logits(logits, batch) : logits; };
  const Tensor want_logits = comparable(expected->load("logits"));
  const float want_loss = expected->load("loss").f32()[0];
  ForwardResult eval = model->forward(batch);
  eval.logits = comparable(eval.logits);
  ASSERT_EQ(eval.logits.numel(), want_logits.numel());
  EXPECT_LE(max_abs_diff(eval.logits, want_logits), 1e-5) << "inference logits";
  const Tensor exact_logits = comparable(expected->load("logits64"));
  ASSERT_TRUE(eval.has_loss);
  EXPECT_NEAR(eval.loss, want_loss, 1e-5 * std::max(1.0f, std::fabs(want_loss)));

  // Training path (dropout probabilities are 0 in the twin's config): logits, loss, every gradient.
  for (Parameter* p : model->parameters()) p->grad.zero();
  Rng rng(123);
  ForwardResult train = model->forward_backward(batch, rng);
  train.logits = comparable(train.logits);
  EXPECT_LE(max_abs_diff(train.logits, want_logits), 1e-5) << "training logits";
  EXPECT_NEAR(train.loss, want_loss, 1e-5 * std::max(1.0f, std::fabs(want_loss)));
  if (dynamic_cast<TransformerClassifier&>(*model).task() == ModelTask::SequenceClassification)
    EXPECT_EQ(problem_type_name(model->problem_type()), model->config()->problem_type.value());

  const ParameterList params = model->parameters();
  ASSERT_EQ(static_cast<int64_t>(params.size()), (static_cast<int64_t>(expected->names().size()) - 4) / 2);
  double global_scale = 0.0;
  for (Parameter* p : params) global_scale = std::max(global_scale, max_abs(expected->load("grad64." + p->name)));
  const double tiny = 1e-3 * global_scale;
  double worst_torch = 0.0, worst_exact = 0.0, worst_torch_own = 0.0;
  std::string worst_name;
  for (size_t i = 0; i < params.size(); ++i) {
    const Parameter* p = params[i];
    ASSERT_TRUE(expected->contains("grad." + p->name)) << p->name;
    const Tensor torch32 = expected->load("grad." + p->name);
    const Tensor exact = expected->load("grad64." + p->name);
    ASSERT_EQ(exact.shape(), p->grad.shape()) << p->name;
    const double vs_torch = relative_diff(p->grad, torch32, tiny);
    const double vs_exact = relative_diff(p->grad, exact, tiny);
    const double torch_own = relative_diff(torch32, exact, tiny);
    EXPECT_LE(vs_torch, 1e-4) << p->name << " vs PyTorch fp32 (max|grad| " << max_abs(torch32) << ")";
    EXPECT_LE(vs_exact, 1e-4) << p->name << " vs float64 (max|grad| " << max_abs(exact) << ")";
    if (std::getenv("ACCENT_TWIN_VERBOSE"))
      std::cout << p->name << " max|exact| " << max_abs(exact) << " accent−exact " << vs_exact << " pytorch−exact "
                << torch_own << "\n";
    if (vs_torch > worst_torch) worst_torch = vs_torch, worst_name = p->name;
    worst_exact = std::max(worst_exact, vs_exact);
    worst_torch_own = std::max(worst_torch_own, torch_own);
  }
  std::cout << "[twin " << label << "] logits max|diff| " << max_abs_diff(train.logits, want_logits) << " (vs float64: accent "
            << max_abs_diff(train.logits, exact_logits) << ", pytorch " << max_abs_diff(want_logits, exact_logits)
            << ", max|logit| " << max_abs(exact_logits) << "), loss " << train.loss << " vs "
            << want_loss << "; gradients (" << params.size() << " tensors) worst relative diff vs pytorch fp32 "
            << worst_torch << " (" << worst_name << "), vs float64 " << worst_exact << " (pytorch fp32 vs float64 "
            << worst_torch_own << ")\n";
}

inline void check_against_twin(const TwinCase& c) {
  TempDir dir("twin_" + c.preset + "_" + c.problem + "_" + c.act + "_" + backend_name(c.backend));
  run_twin(dir.str(), c.preset, c.problem, c.act);
  check_dir_against_expected(dir, c.backend, c.preset + "/" + c.problem + "/" + c.act + "/" + backend_name(c.backend));
}


}  // namespace accent::testing
