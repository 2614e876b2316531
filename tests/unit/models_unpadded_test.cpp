// Unpadded execution (nn/token_packing.h): for every family, a sequence classifier whose layers run on the real
// tokens only, and whose last layer computes only the row the head reads (all but Qwen2/Llama), gives
// the padded path's logits, loss and every parameter gradient within fp32 rounding, in eval mode and in training
// with dropout on, where the packed rows draw the very mask bits of their padded rows and the dropout stream
// advances by the same amount. Small random models, weights scaled up so the nonlinearities matter.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "models/registry.h"
#include "models/transformer_classifier.h"
#include "models_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

// Relative to the larger tensor's max |value|: the two paths multiply matrices of different row counts, so oneDNN
// may block (and round) the sums differently; nothing else differs.
constexpr double kLogitsTolerance = 1e-5;
constexpr double kGradTolerance = 1e-4;

double rel_err(const float* a, const float* b, int64_t n) {
  double diff = 0, scale = 1e-30;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::max(std::fabs(static_cast<double>(a[i])), std::fabs(static_cast<double>(b[i]))));
  }
  return diff / scale;
}

// Rows of the given real lengths, right-padded with id 0 to the longest; ids in [1, 120); labels b mod 3.
Batch ragged_batch(const std::vector<int64_t>& lengths, uint64_t seed) {
  Batch batch;
  batch.B = static_cast<int64_t>(lengths.size());
  batch.T = *std::max_element(lengths.begin(), lengths.end());
  Rng rng(seed);
  for (int64_t b = 0; b < batch.B; ++b) {
    for (int64_t t = 0; t < batch.T; ++t) {
      const bool real = t < lengths[static_cast<size_t>(b)];
      batch.input_ids.push_back(real ? static_cast<int32_t>(1 + rng.below(119)) : 0);
      batch.token_type_ids.push_back(real && t > 2 ? 1 : 0);
      batch.attention_mask.push_back(real ? 1 : 0);
    }
    batch.class_labels.push_back(b % 3);
  }
  return batch;
}

ModelConfig family_config(const std::string& family) {
  ModelConfig c = small_model_config(family);
  c.hidden_dropout_prob = 0.1;
  c.attention_probs_dropout_prob = 0.1;
  if (family == "electra") c.embedding_size = 32;  // through embeddings_project
  return c;
}

std::unique_ptr<SequenceClassifier> make_model(const std::string& family, bool unpadded, Backend backend) {
  auto model = create_sequence_classifier(family_config(family), 11);
  for (Parameter* p : model->parameters())
    if (p->name.find("LayerNorm") == std::string::npos && p->name.find("ln_") == std::string::npos &&
        p->name.find("layer_norm") == std::string::npos)
      for (int64_t i = 0; i < p->value.numel(); ++i) p->value.f32()[i] *= 5.0f;
  model->set_op_context(OpContext{backend, Precision::F32});
  dynamic_cast<TransformerClassifier&>(*model).set_unpadded_execution(unpadded);
  return model;
}

int64_t packed_tokens(SequenceClassifier& m) { return dynamic_cast<TransformerClassifier&>(m).packed_tokens(); }
bool head_rows_only(SequenceClassifier& m) { return dynamic_cast<TransformerClassifier&>(m).head_rows_only(); }

void expect_same_as_padded(const std::string& family, Backend backend) {
  SCOPED_TRACE(family + (backend == Backend::Ref ? " (ref)" : " (cpu)"));
  auto padded = make_model(family, false, backend), packed = make_model(family, true, backend);
  const std::vector<int64_t> lengths = {19, 4, 11, 1, 16, 7};
  const Batch batch = ragged_batch(lengths, 3);
  int64_t real = 0;
  for (int64_t n : lengths) real += n;

  const ForwardResult a = padded->forward(batch), b = packed->forward(batch);
  EXPECT_EQ(packed_tokens(*padded), 0);
  EXPECT_EQ(packed_tokens(*packed), real) << "the packed model ran padded";
  EXPECT_FALSE(head_rows_only(*padded));
  // Qwen2/Llama/ModernBERT run their last layer on every packed row (no head-rows path yet).
  EXPECT_EQ(head_rows_only(*packed), family != "qwen2" && family != "llama" && family != "modernbert" &&
                                       family != "deberta-v2");
  const double logits = rel_err(b.logits.f32(), a.logits.f32(), a.logits.numel());
  EXPECT_LE(logits, kLogitsTolerance);

  // Training step with dropout on: same rng, same masks on the real tokens, same counter afterwards.
  Rng rng_a(99), rng_b(99);
  const ForwardResult ta = padded->forward_backward(batch, rng_a), tb = packed->forward_backward(batch, rng_b);
  EXPECT_EQ(packed_tokens(*packed), real);
  EXPECT_EQ(rng_a.counter(), rng_b.counter()) << "packed dropout advanced the stream differently";
  EXPECT_NEAR(tb.loss, ta.loss, 1e-5 * std::fabs(ta.loss));
  EXPECT_GT(std::fabs(ta.loss - padded->forward(batch).loss), 1e-6) << "dropout had no effect: the check is void";
  const ParameterList pa = padded->parameters(), pb = packed->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  // The attention key bias's true gradient is 0 (softmax ignores a constant added to a row of scores, and q·b_k is
  // one): both paths give rounding noise there, which is compared against the largest gradient of the model.
  double largest = 0;
  for (Parameter* p : pa)
    for (int64_t i = 0; i < p->grad.numel(); ++i) largest = std::max(largest, std::fabs(static_cast<double>(p->grad.f32()[i])));
  auto is_key_bias = [](const std::string& name) {
    return name.find("key.bias") != std::string::npos || name.find("k_lin.bias") != std::string::npos;
  };
  double worst = 0;
  for (size_t i = 0; i < pa.size(); ++i) {
    if (!pa[i]->trainable) continue;
    double e = rel_err(pb[i]->grad.f32(), pa[i]->grad.f32(), pa[i]->grad.numel());
    if (is_key_bias(pa[i]->name)) {
      double diff = 0;
      for (int64_t k = 0; k < pa[i]->grad.numel(); ++k)
        diff = std::max(diff, std::fabs(static_cast<double>(pb[i]->grad.f32()[k]) - pa[i]->grad.f32()[k]));
      e = diff / largest;
    }
    worst = std::max(worst, e);
    EXPECT_LE(e, kGradTolerance) << pa[i]->name;
  }
  std::printf("%s: logits %.2e, loss %.9g vs %.9g, worst gradient %.2e over %zu tensors\n", family.c_str(), logits,
              tb.loss, ta.loss, worst, pa.size());
}

}  // namespace

class UnpaddedFamilies : public ::testing::TestWithParam<std::string> {};

TEST_P(UnpaddedFamilies, SameLogitsLossAndGradientsAsPadded) { expect_same_as_padded(GetParam(), Backend::Cpu); }

INSTANTIATE_TEST_SUITE_P(All, UnpaddedFamilies,
                         ::testing::Values("bert", "roberta", "xlm-roberta", "electra", "distilbert", "gpt2", "qwen2",
                                           "llama", "modernbert", "deberta-v2"),
                         family_param_name);

TEST(Unpadded, RefBackendToo) {
  expect_same_as_padded("bert", Backend::Ref);
  expect_same_as_padded("gpt2", Backend::Ref);
}

TEST(Unpadded, RunsPaddedWhenThereIsNothingToSkipOrTheHeadRowIsPadding) {
  auto model = make_model("bert", true, Backend::Cpu), padded = make_model("bert", false, Backend::Cpu);
  const Batch full = ragged_batch({5, 5, 5}, 1);
  const ForwardResult f = model->forward(full), g = padded->forward(full);  // no padding: nothing to pack ...
  EXPECT_EQ(packed_tokens(*model), 0);
  EXPECT_TRUE(head_rows_only(*model));  // ... but the last layer still computes [CLS] only
  EXPECT_LE(rel_err(f.logits.f32(), g.logits.f32(), f.logits.numel()), kLogitsTolerance);
  Batch no_mask = ragged_batch({5, 3}, 1);
  no_mask.attention_mask.clear();  // no mask: every token attends and is real
  model->forward(no_mask);
  EXPECT_EQ(packed_tokens(*model), 0);

  // GPT-2 pools the last non-pad token; a row whose mask hides it must be computed as the padded path does.
  auto gpt2 = make_model("gpt2", true, Backend::Cpu), gpt2_padded = make_model("gpt2", false, Backend::Cpu);
  Batch hidden_head = ragged_batch({6, 3}, 2);
  hidden_head.attention_mask[1 * 6 + 2] = 0;  // row 1's last non-pad token is masked
  const ForwardResult a = gpt2->forward(hidden_head), b = gpt2_padded->forward(hidden_head);
  EXPECT_EQ(packed_tokens(*gpt2), 0);
  EXPECT_TRUE(head_rows_only(*gpt2));
  EXPECT_LE(rel_err(a.logits.f32(), b.logits.f32(), a.logits.numel()), kLogitsTolerance);

  // No mask at all: GPT-2's pooled row is still the last non-pad token, and the tokens after it are real to the
  // attention; only the causal cut keeps the pooled row from seeing them.
  Batch unmasked = ragged_batch({6, 3}, 4);
  unmasked.attention_mask.clear();
  const ForwardResult c = gpt2->forward(unmasked), d = gpt2_padded->forward(unmasked);
  EXPECT_TRUE(head_rows_only(*gpt2));
  EXPECT_LE(rel_err(c.logits.f32(), d.logits.f32(), c.logits.numel()), kLogitsTolerance);
}
