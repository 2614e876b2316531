// bf16 mixed precision on a whole model (small BERT, random weights): logits and parameter gradients against the
// fp32 model, cpu-bf16 against the ref-bf16 oracle, and training that still converges in bf16. Tolerances are
// declared next to each check; they bound the effect of rounding matmul operands to bf16 (2^-9 relative).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "models/registry.h"
#include "ops/precision.h"
#include "models_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

// logits bf16 vs fp32, relative to max|logit|: 2 layers of bf16 operand rounding.
constexpr double kLogitsBf16VsF32 = 1.5e-2;  // measured 4.6e-3
// cpu-bf16 vs ref-bf16: same roundings except where summation order flips one bf16 rounding of an activation.
constexpr double kLogitsCpuVsRefBf16 = 2e-3;  // measured 1.5e-7
// parameter gradients bf16 vs fp32, relative to each tensor's max|grad| (largest tensors only, see below).
constexpr double kGradsBf16VsF32 = 3e-2;  // measured 8.8e-3

double rel_err(const float* a, const float* b, int64_t n) {
  double diff = 0, scale = 1e-30;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

// The random init (std 0.02) makes BERT nearly linear; scale weights up so the nonlinearities matter.
void scale_weights(SequenceClassifier& m, float factor) {
  for (Parameter* p : m.parameters())
    if (p->name.find("LayerNorm") == std::string::npos)
      for (int64_t i = 0; i < p->value.numel(); ++i) p->value.f32()[i] *= factor;
}

}  // namespace

TEST(ModelsBf16, LogitsAndGradientsCloseToF32) {
  const ModelConfig config = small_model_config();
  auto f32 = create_sequence_classifier(config, 7);
  auto bf16 = create_sequence_classifier(config, 7);
  auto ref16 = create_sequence_classifier(config, 7);
  scale_weights(*f32, 5.0f), scale_weights(*bf16, 5.0f), scale_weights(*ref16, 5.0f);
  f32->set_op_context(OpContext{Backend::Cpu, Precision::F32});
  bf16->set_op_context(OpContext{Backend::Cpu, Precision::BF16});
  ref16->set_op_context(OpContext{Backend::Ref, Precision::BF16});
  const Batch batch = small_padded_batch(4, 24, 3);

  const ForwardResult a = f32->forward(batch), b = bf16->forward(batch), r = ref16->forward(batch);
  const int64_t n = a.logits.numel();
  const double vs32 = rel_err(b.logits.f32(), a.logits.f32(), n);
  const double vs_ref = rel_err(b.logits.f32(), r.logits.f32(), n);
  std::printf("logits: bf16 vs f32 %.2e, cpu-bf16 vs ref-bf16 %.2e\n", vs32, vs_ref);
  EXPECT_LE(vs32, kLogitsBf16VsF32);
  EXPECT_GT(vs32, 1e-6) << "bf16 logits identical to fp32: the bf16 path is not used";
  EXPECT_LE(vs_ref, kLogitsCpuVsRefBf16);

  Rng rng_a(5), rng_b(5);
  const ForwardResult ta = f32->forward_backward(batch, rng_a);
  const ForwardResult tb = bf16->forward_backward(batch, rng_b);
  EXPECT_NEAR(tb.loss, ta.loss, kLogitsBf16VsF32 * std::fabs(ta.loss) + 1e-3);
  const ParameterList pa = f32->parameters(), pb = bf16->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  double worst_grad = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    // Gradients of (out, in) matrices in the encoder: bf16 products of bf16 activations and weights.
    if (pa[i]->value.shape().size() != 2 || pa[i]->name.find("encoder") == std::string::npos) continue;
    const double e = rel_err(pb[i]->grad.f32(), pa[i]->grad.f32(), pa[i]->grad.numel());
    worst_grad = std::max(worst_grad, e);
    EXPECT_LE(e, kGradsBf16VsF32) << pa[i]->name;
  }
  std::printf("encoder weight gradients: worst bf16 vs f32 %.2e\n", worst_grad);
}

TEST(ModelsBf16, TrainingConvergesInBf16LikeF32) {
  // Plain SGD on one batch: the loss must fall in bf16 as it does in fp32 (weights change every step, so this
  // also checks that Linear's bf16 weight copy follows the fp32 master weights).
  const ModelConfig config = small_model_config();
  const Batch batch = small_padded_batch(6, 16, 11);
  std::vector<float> losses[2];
  for (int k = 0; k < 2; ++k) {
    auto model = create_sequence_classifier(config, 1);
    model->set_op_context(OpContext{Backend::Cpu, k == 0 ? Precision::F32 : Precision::BF16});
    Rng rng(9);
    for (int step = 0; step < 25; ++step) {
      for (Parameter* p : model->parameters()) p->grad.zero();
      losses[k].push_back(model->forward_backward(batch, rng).loss);
      for (Parameter* p : model->parameters())
        for (int64_t i = 0; i < p->value.numel(); ++i) p->value.f32()[i] -= 0.1f * p->grad.f32()[i];
    }
  }
  for (int k = 0; k < 2; ++k) std::printf("%s loss: %.4f -> %.4f\n", k ? "bf16" : "fp32", losses[k].front(), losses[k].back());
  const float f32_first = losses[0].front(), f32_last = losses[0].back();
  const float bf16_first = losses[1].front(), bf16_last = losses[1].back();
  ASSERT_LT(f32_last, 0.5f * f32_first) << "fp32 reference run did not learn";
  EXPECT_LT(bf16_last, 0.5f * bf16_first);
  EXPECT_NEAR(bf16_first, f32_first, 0.05f * f32_first);
  EXPECT_LT(bf16_last, f32_last + 0.1f * f32_first);
}
