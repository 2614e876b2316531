// explain/attention_profile against an independent recomputation: the profile runs batches (padding, [CLS] rows
// only, gradients of the gold class), the check explains every row on its own (explain/attributions.h, one text,
// every attention row kept) and redoes the statistics here — per-word paired differences, Cohen's d_z, mean
// gradient × input, per-head Jensen–Shannon divergence — so an error in the batching, the word bookkeeping or the
// statistics shows. JS divergence itself is checked on distributions with known values.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>

#include "cli_test_data.h"
#include "explain/attention_profile.h"
#include "models/registry.h"
#include "test_util.h"

namespace accent {
namespace {

using testing::TempDir;

TEST(AttentionProfile, JsDivergenceKnownValues) {
  const float a[2] = {1, 0}, b[2] = {0, 1}, u[2] = {0.5f, 0.5f};
  EXPECT_NEAR(js_divergence_bits(a, b, 2), 1.0, 1e-12);  // disjoint supports: the maximum, 1 bit
  EXPECT_NEAR(js_divergence_bits(a, a, 2), 0.0, 1e-12);
  // p = (½, ½), q = (1, 0): m = (¾, ¼); ½·[½·log2(⅔) + ½·log2(2)] + ½·log2(4/3).
  const double expected = 0.5 * (0.5 * std::log2(0.5 / 0.75) + 0.5 * std::log2(2.0)) + 0.5 * std::log2(1.0 / 0.75);
  EXPECT_NEAR(js_divergence_bits(u, a, 2), expected, 1e-7);
  EXPECT_NEAR(js_divergence_bits(a, u, 2), expected, 1e-7);  // symmetric
}

std::unique_ptr<SequenceClassifier> tiny_bert(const std::string& dir, uint64_t seed) {
  testing::write_tiny_bert(dir);
  ModelConfig config = load_config(dir + "/config.json");
  config.initializer_range = 0.2;  // attention far from uniform
  config.id2label = {{0, "negative"}, {1, "positive"}};
  config.label2id = {{"negative", 0}, {"positive", 1}};
  return create_sequence_classifier(config, seed);
}

// SST-2 rows (tests/data) as texts and gold labels.
void sst2_rows(size_t n, std::vector<std::string>& texts, std::vector<std::string>& labels) {
  std::ifstream in(std::string(ACCENT_TEST_DATA_DIR) + "/sentiment/sst2/train.tsv");
  std::string line;
  std::getline(in, line);
  while (texts.size() < n && std::getline(in, line)) {
    const size_t tab = line.rfind('\t');
    texts.push_back(line.substr(0, tab));
    labels.push_back(line.substr(tab + 1) == "1" ? "positive" : "negative");
  }
}

struct Recomputed {
  std::vector<double> diffs, attributions;
  double base = 0, tuned = 0;
};

TEST(AttentionProfile, MatchesAPerTextRecomputation) {
  TempDir tmp;
  auto tuned_model = tiny_bert(tmp.str("tuned"), 11);
  auto base_model = tiny_bert(tmp.str("base"), 12);
  auto& tuned = dynamic_cast<TransformerClassifier&>(*tuned_model);
  auto& base = dynamic_cast<TransformerClassifier&>(*base_model);
  const Tokenizer tok = Tokenizer::from_pretrained(tmp.str("tuned"));
  Explainer tuned_x(tuned, tok, 32), base_x(base, tok, 32);  // 32 tokens: some rows are truncated

  std::vector<std::string> texts, labels;
  sst2_rows(40, texts, labels);
  std::vector<int64_t> ids;
  for (const std::string& l : labels) ids.push_back(l == "positive" ? 1 : 0);
  ProfileOptions options;
  options.batch_size = 7;  // batches that do not divide the rows, with padding
  options.min_count = 3;
  options.top = 1000;      // every ranked word
  const AttentionProfile p = attention_profile(tuned_x, base_x, texts, labels, ids, options);
  ASSERT_EQ(p.rows, 40);
  ASSERT_EQ(p.labels.size(), 3u);  // negative, positive, all
  EXPECT_EQ(p.labels[0].label, "negative");
  EXPECT_EQ(p.labels[1].label, "positive");
  EXPECT_EQ(p.labels[2].label, "");
  EXPECT_EQ(p.labels[0].rows + p.labels[1].rows, 40);

  // Per text, on its own: attention_mean word scores of both models, gradient × input of the gold class, and the
  // JS divergence of every attention row.
  const int64_t L = p.layers, NH = p.heads;
  std::map<std::string, std::map<std::string, Recomputed>> by_label;
  std::vector<double> divergence(static_cast<size_t>(L * NH), 0.0);
  int64_t query_rows = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    ExplainOptions o;
    o.ig_steps = 1;
    o.keep_attention = true;
    o.target = ids[i];
    const TextExplanation t = tuned_x.explain(texts[i], o);
    const TextExplanation b = base_x.explain(texts[i], o);
    ASSERT_EQ(t.words.size(), b.words.size());
    for (size_t w = 0; w < t.words.size(); ++w)
      for (const std::string& label : {labels[i], std::string()}) {
        Recomputed& r = by_label[label][t.words[w].text];
        const double at = t.word_scores[static_cast<int>(AttributionMethod::AttentionMean)][w];
        const double ab = b.word_scores[static_cast<int>(AttributionMethod::AttentionMean)][w];
        r.diffs.push_back(at - ab);
        r.base += ab;
        r.tuned += at;
        r.attributions.push_back(t.word_scores[static_cast<int>(AttributionMethod::GradientXInput)][w]);
      }
    const int64_t T = static_cast<int64_t>(t.encoding.size());
    for (int64_t lh = 0; lh < L * NH; ++lh)
      for (int64_t q = 0; q < T; ++q)
        divergence[lh] += js_divergence_bits(&t.attention[(lh * T + q) * T], &b.attention[(lh * T + q) * T], T);
    query_rows += T;
  }

  int checked = 0;
  for (const LabelProfile& lp : p.labels) {
    const auto& words = by_label.at(lp.label);
    int64_t ranked = 0;
    for (const auto& [word, r] : words) ranked += static_cast<int64_t>(r.diffs.size()) >= options.min_count;
    int64_t with_effect = 0;
    for (const std::vector<WordShift>* list : {&lp.increased, &lp.decreased}) {
      for (size_t k = 0; k < list->size(); ++k) {
        const WordShift& w = (*list)[k];
        const Recomputed& r = words.at(w.word);
        const double n = static_cast<double>(r.diffs.size());
        ASSERT_EQ(w.count, static_cast<int64_t>(r.diffs.size())) << w.word;
        double mean = 0, var = 0, attribution = 0;
        for (double d : r.diffs) mean += d / n;
        for (double d : r.diffs) var += (d - mean) * (d - mean) / (n - 1);
        for (double a : r.attributions) attribution += a / n;
        EXPECT_NEAR(w.mean_base, r.base / n, 1e-6) << w.word;
        EXPECT_NEAR(w.mean_tuned, r.tuned / n, 1e-6) << w.word;
        EXPECT_NEAR(w.mean_diff, mean, 1e-6) << w.word;
        EXPECT_NEAR(w.effect, mean / std::sqrt(var), 1e-3 * std::max(1.0, std::fabs(w.effect))) << w.word;
        EXPECT_NEAR(w.attribution, attribution, 1e-4 * std::max(1.0, std::fabs(attribution))) << w.word;
        if (k > 0) {  // ranked by the attention moved, most first
          if (list == &lp.increased) EXPECT_GE((*list)[k - 1].mean_diff, w.mean_diff);
          else EXPECT_LE((*list)[k - 1].mean_diff, w.mean_diff);
        }
        EXPECT_EQ(w.mean_diff > 0, list == &lp.increased);
        EXPECT_EQ(w.effect > 0, w.mean_diff > 0);
        ++checked;
      }
      with_effect += static_cast<int64_t>(list->size());
    }
    EXPECT_EQ(with_effect, ranked) << "every word seen at least min_count times is ranked (label " << lp.label << ")";
    EXPECT_EQ(static_cast<int64_t>(lp.attributed.size()), ranked);
  }
  EXPECT_GT(checked, 40);

  double layer0 = 0;
  for (int64_t lh = 0; lh < L * NH; ++lh) {
    EXPECT_NEAR(p.head_divergence[lh], divergence[lh] / static_cast<double>(query_rows), 1e-6) << "head " << lh;
    EXPECT_GT(p.head_divergence[lh], 0.01);  // two different random models attend differently
    if (lh < NH) layer0 += p.head_divergence[lh] / static_cast<double>(NH);
  }
  EXPECT_NEAR(p.layer_divergence[0], layer0, 1e-9);
}

TEST(AttentionProfile, AModelAgainstItselfShowsNoChange) {
  TempDir tmp;
  auto model = tiny_bert(tmp.str("m"), 5);
  auto again = tiny_bert(tmp.str("m2"), 5);  // the same seed: the same weights
  const Tokenizer tok = Tokenizer::from_pretrained(tmp.str("m"));
  Explainer a(dynamic_cast<TransformerClassifier&>(*model), tok, 64);
  Explainer b(dynamic_cast<TransformerClassifier&>(*again), tok, 64);
  std::vector<std::string> texts, labels;
  sst2_rows(12, texts, labels);
  std::vector<int64_t> ids(texts.size(), -1);
  ProfileOptions options;
  options.min_count = 2;
  const AttentionProfile p = attention_profile(a, b, texts, labels, ids, options);
  for (double d : p.head_divergence) EXPECT_NEAR(d, 0.0, 1e-9);
  for (const LabelProfile& lp : p.labels) {
    EXPECT_TRUE(lp.increased.empty());
    EXPECT_TRUE(lp.decreased.empty());
    EXPECT_FALSE(lp.attributed.empty());
  }
}

}  // namespace
}  // namespace accent
