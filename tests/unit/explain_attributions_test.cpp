// explain/attributions against the PyTorch twin (tests/reference/explain_twin.py: output_attentions,
// torch.autograd.grad on inputs_embeds, the same integrated-gradients path), integrated gradients' completeness,
// rollout's algebra and word aggregation for WordPiece and byte-level BPE.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <numeric>

#include "cli_test_data.h"
#include "explain/attributions.h"
#include "io/safetensors.h"
#include "models/registry.h"
#include "test_util.h"

namespace accent {
namespace {

using testing::TempDir;

// A tiny BERT with bert-base-uncased's vocabulary and weights wide enough (initializer_range 0.2) for attention
// that is far from uniform, saved and loaded back like any checkpoint.
std::unique_ptr<SequenceClassifier> tiny_bert(const std::string& dir) {
  testing::write_tiny_bert(dir);
  ModelConfig config = load_config(dir + "/config.json");
  config.initializer_range = 0.2;
  config.set_num_labels(3);
  auto model = create_sequence_classifier(config, 7);
  save_pretrained(*model, dir);
  LoadOptions o;
  o.require_all_weights = true;
  return load_sequence_classifier(dir, o);
}

double max_abs(const float* v, int64_t n) {
  double m = 0;
  for (int64_t i = 0; i < n; ++i) m = std::max(m, std::fabs(static_cast<double>(v[i])));
  return m;
}

// Runs tests/reference/explain_twin.py on the ids `x` was explained with and compares logits, every layer's
// attention, every method's token scores and f at both ends of the integrated-gradients path.
void expect_twin_agrees(const TempDir& tmp, const std::string& dir, const std::string& family, const TextExplanation& x,
                        int64_t ig_steps) {
  const int64_t T = static_cast<int64_t>(x.encoding.size()), L = x.layers, NH = x.heads;
  Tensor ids(DType::I64, {1, T}), types(DType::I64, {1, T});
  for (int64_t t = 0; t < T; ++t) {
    ids.data_as<int64_t>()[t] = x.encoding.ids[t];
    types.data_as<int64_t>()[t] = x.encoding.type_ids.empty() ? 0 : x.encoding.type_ids[t];
  }
  save_safetensors(tmp.str("inputs.safetensors"), {{"input_ids", ids}, {"token_type_ids", types}});
  const auto r = testing::run_command("/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                                      "/tests/reference/explain_twin.py --family " + family + " --model " + dir +
                                      " --inputs " + tmp.str("inputs.safetensors") + " --steps " +
                                      std::to_string(ig_steps) + " --target " + std::to_string(x.target) + " --out " +
                                      tmp.str("expected.safetensors"));
  ASSERT_EQ(r.rc, 0) << r.out;
  auto expected = SafetensorsFile::open(tmp.str("expected.safetensors"));

  const Tensor logits = expected->load("logits");
  ASSERT_EQ(logits.numel(), static_cast<int64_t>(x.logits.size()));
  for (int64_t c = 0; c < logits.numel(); ++c) EXPECT_NEAR(x.logits[c], logits.f32()[c], 1e-5) << "logit " << c;
  const Tensor attentions = expected->load("attentions");
  ASSERT_EQ(attentions.shape(), (Shape{L, NH, T, T}));
  for (int64_t i = 0; i < L * NH * T * T; ++i)
    ASSERT_NEAR(x.attention[i], attentions.f32()[i], 1e-6) << "attention element " << i;

  const char* names[kAttributionMethods] = {"attention_last", "attention_mean", "attention_rollout",
                                            "gradient_x_input", "integrated_gradients"};
  for (int m = 0; m < kAttributionMethods; ++m) {
    EXPECT_STREQ(attribution_method_name(static_cast<AttributionMethod>(m)), names[m]);
    const Tensor want = expected->load(names[m]);
    ASSERT_EQ(want.numel(), T) << names[m];
    // Gradients agree to 1e-4 of their largest magnitude (fp32 sums in another order); attention to 1e-6.
    const double scale = m >= 3 ? 1e-4 * max_abs(want.f32(), T) : 1e-6;
    for (int64_t t = 0; t < T; ++t) EXPECT_NEAR(x.token_scores[m][t], want.f32()[t], scale) << names[m] << " token " << t;
  }
  EXPECT_NEAR(x.f_input, expected->load("f_input").f32()[0], 1e-5);
  EXPECT_NEAR(x.f_baseline, expected->load("f_baseline").f32()[0], 1e-5);
  EXPECT_NEAR(x.f_input, x.logits[x.target], 1e-5);  // the path's end is the input itself
}

TEST(ExplainAttributions, MatchThePyTorchTwin) {
  TempDir tmp;
  const std::string dir = tmp.str("model");
  auto model = tiny_bert(dir);
  auto* tc = dynamic_cast<TransformerClassifier*>(model.get());
  ASSERT_NE(tc, nullptr);
  const Tokenizer tok = Tokenizer::from_pretrained(dir);
  Explainer explainer(*tc, tok, 64);
  ExplainOptions options;
  options.ig_steps = 16;
  options.ig_batch = 5;  // chunks of the path that do not divide m + 1
  options.keep_attention = true;
  const TextExplanation x = explainer.explain("The movie was unbelievably good, not bad at all!", options);
  const int64_t T = static_cast<int64_t>(x.encoding.size());
  ASSERT_GT(T, 10);
  expect_twin_agrees(tmp, dir, "bert", x, 16);
  // The attention from [CLS] is far from uniform with these weights (else the comparison would prove little).
  EXPECT_GT(max_abs(x.token_scores[0].data(), T), 2.0 / static_cast<double>(T));
  const char* names[3] = {"attention_last", "attention_mean", "attention_rollout"};

  // Attention methods are distributions over the tokens.
  for (int m = 0; m < 3; ++m) {
    const double sum = std::accumulate(x.token_scores[m].begin(), x.token_scores[m].end(), 0.0);
    EXPECT_NEAR(sum, 1.0, 1e-5) << names[m];
  }
  // Words: the sum of their tokens; "unbelievably" is one word of several WordPiece tokens.
  ASSERT_FALSE(x.words.empty());
  EXPECT_EQ(x.words.front().text, "the");
  bool found = false;
  for (size_t w = 0; w < x.words.size(); ++w) {
    double s = 0;
    for (int64_t t : x.words[w].tokens) s += x.token_scores[4][t];
    EXPECT_NEAR(x.word_scores[4][w], s, 1e-6);
    if (x.words[w].text == "unbelievably") found = x.words[w].tokens.size() > 1;
  }
  EXPECT_TRUE(found);
  EXPECT_EQ(x.words.back().text, "!");
}

// RoBERTa, ELECTRA (its word vectors are embedding_size wide, before embeddings_project) and DistilBERT (no token
// types, its own attention module): random weights from family_twin.py with the family's real tokenizer.
struct FamilyCase {
  const char* family;
  const char* vocab_dir;
  int64_t vocab_size;
};

class ExplainFamilies : public ::testing::TestWithParam<FamilyCase> {};

TEST_P(ExplainFamilies, MatchThePyTorchTwin) {
  const FamilyCase c = GetParam();
  TempDir tmp;
  const std::string dir = tmp.str("model");
  const auto gen = testing::run_command("/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                                        "/tests/reference/family_twin.py gen --out " + dir + " --family " + c.family +
                                        " --problem single --num-labels 3 --vocab " + std::to_string(c.vocab_size));
  ASSERT_EQ(gen.rc, 0) << gen.out;
  for (const auto& f : std::filesystem::directory_iterator(std::string(ACCENT_TEST_DATA_DIR) + "/vocab/" + c.vocab_dir))
    if (f.path().filename() != "config.json") std::filesystem::copy_file(f.path(), std::filesystem::path(dir) / f.path().filename());
  LoadOptions load;
  load.require_all_weights = true;
  auto model = load_sequence_classifier(dir, load);
  auto* tc = dynamic_cast<TransformerClassifier*>(model.get());
  ASSERT_NE(tc, nullptr);
  const Tokenizer tok = Tokenizer::from_pretrained(dir);
  Explainer explainer(*tc, tok, 32);
  ExplainOptions options;
  options.ig_steps = 8;
  options.keep_attention = true;
  options.target = 2;
  const TextExplanation x = explainer.explain("The movie was unbelievably good, not bad at all!", options);
  ASSERT_GT(x.encoding.size(), 10u);
  EXPECT_EQ(x.target, 2);
  expect_twin_agrees(tmp, dir, c.family, x, 8);
  EXPECT_FALSE(x.words.empty());
}

INSTANTIATE_TEST_SUITE_P(Encoders, ExplainFamilies,
                         ::testing::Values(FamilyCase{"roberta", "roberta-base", 50265},
                                           FamilyCase{"electra", "bert-base-uncased", 30522},
                                           FamilyCase{"distilbert", "bert-base-uncased", 30522}),
                         [](const auto& info) { return std::string(info.param.family); });

TEST(ExplainAttributions, IntegratedGradientsCompleteness) {
  TempDir tmp;
  auto model = tiny_bert(tmp.str("model"));
  auto* tc = dynamic_cast<TransformerClassifier*>(model.get());
  const Tokenizer tok = Tokenizer::from_pretrained(tmp.str("model"));
  Explainer explainer(*tc, tok, 64);
  ExplainOptions options;
  double previous = 1e30;
  for (int64_t m : {2, 8, 64}) {
    options.ig_steps = m;
    const TextExplanation x = explainer.explain("a dull, lifeless and predictable thriller", options);
    const double delta = x.f_input - x.f_baseline;
    ASSERT_GT(std::fabs(delta), 1e-3);
    std::printf("[ig] steps %lld: sum %.6f, f(x) - f(0) %.6f, completeness error %.2e\n", static_cast<long long>(m),
                x.ig_sum, delta, x.ig_completeness_error);
    EXPECT_NEAR(x.ig_completeness_error, std::fabs(x.ig_sum - delta), 1e-9);
    EXPECT_LE(x.ig_completeness_error, previous);  // the trapezoid rule converges
    previous = x.ig_completeness_error;
  }
  // 64 steps: within 1% of f(x) − f(baseline).
  options.ig_steps = 64;
  const TextExplanation x = explainer.explain("a dull, lifeless and predictable thriller", options);
  EXPECT_LE(x.ig_completeness_error, 0.01 * std::fabs(x.f_input - x.f_baseline));
}

TEST(ExplainAttributions, BatchMatchesSingleTexts) {
  TempDir tmp;
  auto model = tiny_bert(tmp.str("model"));
  auto* tc = dynamic_cast<TransformerClassifier*>(model.get());
  const Tokenizer tok = Tokenizer::from_pretrained(tmp.str("model"));
  Explainer explainer(*tc, tok, 64);
  const std::vector<std::string> texts = {"short one", "a much longer text with many more words in it , padded less"};
  const auto batch = explainer.run_batch(texts, true, false);
  ExplainOptions options;
  options.ig_steps = 1;
  for (size_t i = 0; i < texts.size(); ++i) {
    const TextExplanation x = explainer.explain(texts[i], options);
    const int64_t T = static_cast<int64_t>(x.encoding.size());
    ASSERT_EQ(static_cast<int64_t>(batch.grad_x_input[i].size()), T);
    const double scale = 1e-4 * max_abs(x.token_scores[3].data(), T);
    for (int64_t t = 0; t < T; ++t) {
      EXPECT_NEAR(batch.grad_x_input[i][t], x.token_scores[3][t], scale) << "text " << i << " token " << t;
      // The last layer's [CLS] row, head-averaged, is attention_last.
      double mean = 0;
      for (int64_t h = 0; h < x.heads; ++h) mean += batch.cls_attention[i][((x.layers - 1) * x.heads + h) * T + t];
      EXPECT_NEAR(mean / static_cast<double>(x.heads), x.token_scores[0][t], 1e-6);
    }
  }
}

TEST(ExplainAttributions, RolloutAlgebra) {
  // One layer of uniform attention over 4 tokens: row 0 of (U + I)/2 = (5/8, 1/8, 1/8, 1/8).
  const std::vector<std::vector<float>> one = {std::vector<float>(16, 0.25f)};
  const std::vector<float> r = attention_rollout(one, 4);
  EXPECT_FLOAT_EQ(r[0], 0.625f);
  EXPECT_FLOAT_EQ(r[1], 0.125f);
  // Two layers: the later one on the left. Layer 0 sends everything to token 3, layer 1 is the identity:
  // row 0 of ((I + I)/2)·((S + I)/2) = ½·e₀ + ½·e₃.
  std::vector<float> to_last(16, 0.0f), identity(16, 0.0f);
  for (int i = 0; i < 4; ++i) to_last[i * 4 + 3] = 1.0f, identity[i * 4 + i] = 1.0f;
  const std::vector<float> r2 = attention_rollout({to_last, identity}, 4);
  EXPECT_FLOAT_EQ(r2[0], 0.5f);
  EXPECT_FLOAT_EQ(r2[3], 0.5f);
}

TEST(ExplainAttributions, WordsOfByteLevelBpe) {
  const Tokenizer tok = Tokenizer::from_pretrained(std::string(ACCENT_TEST_DATA_DIR) + "/vocab/roberta-base");
  const Encoding e = tok.encode("Hello, wonderful café!");
  const std::vector<ExplainedWord> words = words_of(e, tok.family());
  std::vector<std::string> texts;
  for (const ExplainedWord& w : words) texts.push_back(w.text);
  EXPECT_EQ(texts, (std::vector<std::string>{"Hello", ",", "wonderful", "café", "!"}));
  EXPECT_EQ(words_of(e, tok.family()).front().tokens.front(), 1);  // <s> is no word
}

}  // namespace
}  // namespace accent
