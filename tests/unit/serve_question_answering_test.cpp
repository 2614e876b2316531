// Question-answering post-processing against tests/reference/qa_postprocess_oracle.py, an independent stdlib
// Python implementation of utils_qa.py's postprocess_qa_predictions and of the question-answering pipeline's
// postprocess: real windows (bert-base-uncased, roberta-base, SQuAD v1.1 dev subset) with random logits, SQuAD v2
// null answers, the "empty" fallback, token_is_max_context, top_k > 1, handle_impossible_answer, align_to_words on
// and off, context-first tokenizers. Every text and position must match exactly, every score to 1e-6 relative.
// A few hand-made logits pin down the rules themselves (word alignment, null answer, option errors).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/qa_features.h"
#include "data/squad_data.h"
#include "error_text.h"
#include "serve/question_answering.h"
#include "test_util.h"
#include "test_tokenizers.h"

namespace accent {
namespace {

using accent::testing::bert;
using accent::testing::roberta;

using nlohmann::json;
using testing::error_of;

const std::string kQa = std::string(ACCENT_TEST_DATA_DIR) + "/question-answering/";

const std::vector<SquadExample>& squad_v1() {
  static const std::vector<SquadExample> e = read_squad_file(kQa + "squad-v1.1/dev-v1.1-first2.json").examples;
  return e;
}

void expect_close(double actual, double expected, const std::string& what) {
  const double tolerance = 1e-6 * std::max(std::abs(expected), 1e-30) + 1e-300;
  EXPECT_LE(std::abs(actual - expected), tolerance) << what << ": accent " << actual << ", oracle " << expected;
}

json run_oracle(const json& input) {
  testing::TempDir dir("qa_oracle");
  {
    std::ofstream out(dir / "in.json");
    out << input.dump();
  }
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                          "/tests/reference/qa_postprocess_oracle.py " + testing::shell_quote(dir / "in.json") + " " +
                          testing::shell_quote(dir / "out.json");
  const testing::CmdResult run = testing::run_command(cmd);
  if (run.rc != 0) throw Error("oracle failed: " + run.out);
  std::ifstream in(dir / "out.json");
  return json::parse(in);
}

// ---------------------------------------------------------------------------------------------------------------
// utils_qa.py postprocess_qa_predictions

// Random float32 logits per feature, `row_length` wide (the padded width of run_qa.py's prediction arrays, -100
// past a shorter feature). `null_bias` lifts position 0 in some features so the null answer wins sometimes;
// examples whose index is a multiple of 17 get context logits far below everything else (no span survives).
std::vector<QaLogits> random_logits(const QaValidationFeatures& features, size_t row_length, float null_bias,
                                    uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.f, 2.f);
  std::uniform_real_distribution<float> unit(0.f, 1.f);
  std::vector<QaLogits> out;
  for (size_t f = 0; f < features.features.size(); ++f) {
    const QaValidationFeature& feature = features.features[f];
    const bool starved = features.overflow_to_sample_mapping[f] % 17 == 0;
    QaLogits l;
    l.start.assign(row_length, -100.f);
    l.end.assign(row_length, -100.f);
    for (size_t t = 0; t < feature.input_ids.size(); ++t) {
      l.start[t] = normal(rng);
      l.end[t] = normal(rng);
      if (starved && feature.offset_mapping[t]) l.start[t] = l.end[t] = -30.f - unit(rng);
    }
    if (unit(rng) < 0.4f) {
      l.start[0] += null_bias;
      l.end[0] += null_bias;
    }
    out.push_back(std::move(l));
  }
  return out;
}

json utils_qa_case(const std::vector<SquadExample>& examples, const QaValidationFeatures& features,
                   const std::vector<QaLogits>& logits, const QaDataArguments& args) {
  json c;
  c["args"] = {{"version_2_with_negative", args.version_2_with_negative},
               {"n_best_size", args.n_best_size},
               {"max_answer_length", args.max_answer_length},
               {"null_score_diff_threshold", args.null_score_diff_threshold}};
  c["examples"] = json::array();
  for (const auto& ex : examples) c["examples"].push_back({{"id", ex.id}, {"context", ex.context}});
  c["features"] = json::array();
  for (const auto& f : features.features) {
    json offsets = json::array();
    for (const auto& o : f.offset_mapping) offsets.push_back(o ? json::array({o->first, o->second}) : json(nullptr));
    json jf = {{"example_id", f.example_id}, {"offset_mapping", offsets}};
    if (f.token_is_max_context) {
      json m = json::object();
      for (size_t t = 0; t < f.token_is_max_context->size(); ++t) m[std::to_string(t)] = bool((*f.token_is_max_context)[t]);
      jf["token_is_max_context"] = m;
    }
    c["features"].push_back(jf);
  }
  c["start_logits"] = json::array();
  c["end_logits"] = json::array();
  for (const auto& l : logits) {
    c["start_logits"].push_back(std::vector<double>(l.start.begin(), l.start.end()));
    c["end_logits"].push_back(std::vector<double>(l.end.begin(), l.end.end()));
  }
  return c;
}

struct UtilsQaCounts {
  size_t examples = 0, null_predictions = 0, empty_fallbacks = 0, nbest_entries = 0;
};

void compare_utils_qa(const std::vector<QaExamplePrediction>& ours, const json& oracle, const QaDataArguments& args,
                      UtilsQaCounts& counts) {
  ASSERT_EQ(ours.size(), oracle["predictions"].size());
  for (const QaExamplePrediction& p : ours) {
    ++counts.examples;
    SCOPED_TRACE("example " + p.id);
    EXPECT_EQ(p.prediction_text, oracle["predictions"][p.id].get<std::string>());
    counts.null_predictions += p.prediction_text.empty();
    counts.empty_fallbacks += p.nbest[0].text == "empty" && p.nbest[0].score == 0.0 && p.nbest[0].begin == 0;
    const json& nbest = oracle["nbest"][p.id];
    ASSERT_EQ(p.nbest.size(), nbest.size());
    for (size_t i = 0; i < p.nbest.size(); ++i) {
      ++counts.nbest_entries;
      EXPECT_EQ(p.nbest[i].text, nbest[i]["text"].get<std::string>()) << "n-best " << i;
      expect_close(p.nbest[i].start_logit, nbest[i]["start_logit"].get<double>(), "start_logit");
      expect_close(p.nbest[i].end_logit, nbest[i]["end_logit"].get<double>(), "end_logit");
      expect_close(p.nbest[i].probability, nbest[i]["probability"].get<double>(), "probability");
    }
    if (args.version_2_with_negative) {
      ASSERT_TRUE(p.score_diff.has_value());
      expect_close(*p.score_diff, oracle["scores_diff"][p.id].get<double>(), "score_diff");
    } else {
      EXPECT_FALSE(p.score_diff.has_value());
    }
  }
}

TEST(QaPostprocess, MatchesUtilsQaOracle) {
  const std::vector<SquadExample> examples(squad_v1().begin(), squad_v1().begin() + 160);
  QaDataArguments feature_args;
  feature_args.max_seq_length = 128;
  feature_args.doc_stride = 48;
  const QaValidationFeatures bert_features = prepare_validation_features(bert(), examples, feature_args);
  feature_args.pad_to_max_length = false;
  QaValidationFeatures roberta_features = prepare_validation_features(roberta(), examples, feature_args);
  // token_is_max_context on some roberta features (random, sometimes shorter than the feature: missing = false).
  std::mt19937 rng(7);
  for (size_t f = 0; f < roberta_features.features.size(); f += 2) {
    auto& feature = roberta_features.features[f];
    std::vector<bool> max_context(feature.input_ids.size() - (f % 4 == 0 ? 5 : 0));
    for (size_t t = 0; t < max_context.size(); ++t) max_context[t] = rng() % 4 != 0;
    feature.token_is_max_context = max_context;
  }

  struct Case {
    const QaValidationFeatures* features;
    size_t row_length;
    float null_bias;
    QaDataArguments args;
  };
  std::vector<Case> cases;
  QaDataArguments v1;
  cases.push_back({&bert_features, 128, 0.f, v1});
  QaDataArguments v2;
  v2.version_2_with_negative = true;
  cases.push_back({&bert_features, 128, 5.f, v2});
  QaDataArguments v2_short = v2;
  v2_short.n_best_size = 5;
  v2_short.max_answer_length = 8;
  v2_short.null_score_diff_threshold = 2.5;
  cases.push_back({&roberta_features, 140, 4.f, v2_short});
  QaDataArguments v1_short = v1;
  v1_short.n_best_size = 3;
  v1_short.max_answer_length = 4;
  cases.push_back({&roberta_features, 128, 0.f, v1_short});

  json input = {{"utils_qa", json::array()}};
  std::vector<std::vector<QaExamplePrediction>> ours;
  for (size_t i = 0; i < cases.size(); ++i) {
    const Case& c = cases[i];
    const std::vector<QaLogits> logits = random_logits(*c.features, c.row_length, c.null_bias, 100 + i);
    ours.push_back(postprocess_qa_predictions(examples, c.features->features, logits, c.args));
    input["utils_qa"].push_back(utils_qa_case(examples, *c.features, logits, c.args));
  }
  const json oracle = run_oracle(input);
  UtilsQaCounts counts;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    UtilsQaCounts before = counts;
    compare_utils_qa(ours[i], oracle["utils_qa"][i], cases[i].args, counts);
    std::printf("utils_qa case %zu: %zu features, %zu examples, %zu null predictions, %zu \"empty\", %zu n-best\n", i,
                cases[i].features->features.size(), counts.examples - before.examples,
                counts.null_predictions - before.null_predictions, counts.empty_fallbacks - before.empty_fallbacks,
                counts.nbest_entries - before.nbest_entries);
    if (cases[i].args.version_2_with_negative) {
      EXPECT_GT(counts.null_predictions - before.null_predictions, 10u);
      EXPECT_LT(counts.null_predictions - before.null_predictions, examples.size() - 10);
    }
    EXPECT_GT(counts.empty_fallbacks - before.empty_fallbacks, 0u);
  }
}

// A feature by hand: the best span, the n-best order, the v2 decision and its threshold.
TEST(QaPostprocess, HandMadeFeature) {
  SquadExample ex;
  ex.id = "q1";
  ex.context = "Paris is the capital of France.";
  QaValidationFeature f;
  f.example_id = "q1";
  // tokens: [CLS] q [SEP] paris is the capital of france . [SEP]
  f.offset_mapping = {std::nullopt, std::nullopt, std::nullopt, std::pair{0, 5}, std::pair{6, 8}, std::pair{9, 12},
                      std::pair{13, 20}, std::pair{21, 23}, std::pair{24, 30}, std::pair{30, 31}, std::nullopt};
  QaLogits l;
  l.start = {1, 0, 0, 5, 0, 0, 3, 0, 0, 0, 0};
  l.end = {1, 0, 0, 4, 0, 0, 0, 0, 3, 0, 0};
  QaDataArguments args;
  auto p = postprocess_qa_predictions({ex}, {f}, {l}, args);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].prediction_text, "Paris");
  EXPECT_EQ(p[0].nbest[0].score, 9.0);
  EXPECT_EQ(p[0].nbest[1].text, "Paris is the capital of France");  // 5 + 3
  EXPECT_EQ(p[0].nbest[2].text, "capital of France");              // 3 + 3
  args.version_2_with_negative = true;
  l.start[0] = l.end[0] = 5;  // null score 10 > 9
  p = postprocess_qa_predictions({ex}, {f}, {l}, args);
  EXPECT_EQ(p[0].prediction_text, "");
  EXPECT_DOUBLE_EQ(*p[0].score_diff, 1.0);
  EXPECT_EQ(p[0].nbest[0].text, "");
  args.null_score_diff_threshold = 1.0;  // 1 > 1 is false: the span wins
  p = postprocess_qa_predictions({ex}, {f}, {l}, args);
  EXPECT_EQ(p[0].prediction_text, "Paris");
  f.example_id = "nope";
  EXPECT_NE(error_of([&] { postprocess_qa_predictions({ex}, {f}, {l}, args); }).find("\"nope\""), std::string::npos);
}

// ---------------------------------------------------------------------------------------------------------------
// pipeline("question-answering")

json pipeline_case(const std::string& context, const QaPipelineWindows& w, const std::vector<QaLogits>& logits,
                   const QaPipelineOptions& o) {
  json c;
  c["options"] = {{"top_k", o.top_k},
                  {"handle_impossible_answer", o.handle_impossible_answer},
                  {"max_answer_len", o.max_answer_len},
                  {"align_to_words", o.align_to_words},
                  {"question_first", o.pad_on_right}};
  c["context"] = context;
  c["windows"] = json::array();
  const auto none_for_negative = [](const std::vector<int32_t>& v) {
    json a = json::array();
    for (int32_t x : v) a.push_back(x < 0 ? json(nullptr) : json(x));
    return a;
  };
  for (size_t i = 0; i < w.windows.size(); ++i) {
    const Encoding& e = w.windows[i];
    json offsets = json::array();
    for (const auto& o2 : e.offsets) offsets.push_back({o2.first, o2.second});
    c["windows"].push_back({{"p_mask", std::vector<int>(w.p_mask[i].begin(), w.p_mask[i].end())},
                            {"attention_mask", e.attention_mask},
                            {"offsets", offsets},
                            {"word_ids", none_for_negative(e.word_ids)},
                            {"sequence_ids", none_for_negative(e.sequence_ids)},
                            {"start", std::vector<double>(logits[i].start.begin(), logits[i].start.end())},
                            {"end", std::vector<double>(logits[i].end.begin(), logits[i].end.end())}});
  }
  return c;
}

TEST(QaPipeline, MatchesPipelineOracle) {
  struct Setting {
    const Tokenizer* tok;
    QaPipelineOptions options;
    float null_bias;
  };
  std::vector<Setting> settings;
  QaPipelineOptions o;
  o.max_seq_len = 64;
  o.doc_stride = 24;
  settings.push_back({&bert(), o, 0.f});  // top_k 1, align_to_words
  o.top_k = 3;
  o.handle_impossible_answer = true;
  settings.push_back({&bert(), o, 9.f});
  settings.push_back({&roberta(), o, 9.f});
  o.top_k = 5;
  o.align_to_words = false;
  o.max_answer_len = 5;
  settings.push_back({&bert(), o, 2.f});
  o.top_k = 4;
  o.align_to_words = true;
  o.handle_impossible_answer = false;
  o.pad_on_right = false;  // a left-padding tokenizer: (context, question)
  settings.push_back({&roberta(), o, 0.f});
  QaPipelineOptions defaults;  // 384 tokens, stride 128, top_k 1, max_answer_len 15
  defaults.top_k = 2;
  settings.push_back({&bert(), defaults, 0.f});

  std::mt19937 rng(2026);
  std::normal_distribution<float> normal(0.f, 2.5f);
  json input = {{"pipeline", json::array()}};
  std::vector<std::vector<QaAnswer>> ours;
  size_t windows = 0;
  for (size_t s = 0; s < settings.size(); ++s) {
    const size_t questions = s + 1 == settings.size() ? 3 : 14;
    for (size_t q = 0; q < questions; ++q) {
      const SquadExample& ex = squad_v1()[(s * 97 + q * 31) % squad_v1().size()];
      const QaPipelineWindows w = qa_pipeline_preprocess(*settings[s].tok, ex.question, ex.context, settings[s].options);
      std::vector<QaLogits> logits;
      for (const Encoding& e : w.windows) {
        QaLogits l;
        for (size_t t = 0; t < e.size(); ++t) {
          l.start.push_back(normal(rng));
          l.end.push_back(normal(rng));
        }
        if (q % 2 == 0) {
          l.start[0] += settings[s].null_bias;
          l.end[0] += settings[s].null_bias;
        }
        logits.push_back(std::move(l));
      }
      windows += w.windows.size();
      ours.push_back(qa_pipeline_postprocess(ex.context, w, logits, settings[s].options));
      input["pipeline"].push_back(pipeline_case(ex.context, w, logits, settings[s].options));
    }
  }
  // Short contexts with a large top_k: fewer positive cells than the k asked for, so 0-score cells fill in
  // (flat order), including spans from position 0; once with position 0 masked by hand (a layout without CLS
  // there), which numpy's isin still lets through.
  size_t zero_score_answers = 0;
  for (int variant = 0; variant < 4; ++variant) {
    QaPipelineOptions small;
    small.top_k = 40;
    small.align_to_words = variant % 2 == 1;
    small.handle_impossible_answer = variant == 3;
    const std::string context = "Paris is nice, Paris is big.";
    QaPipelineWindows w = qa_pipeline_preprocess(variant < 2 ? bert() : roberta(), "Which city?", context, small);
    if (variant >= 2) w.p_mask[0][0] = 1;
    std::vector<QaLogits> logits;
    for (const Encoding& e : w.windows) {
      QaLogits l;
      for (size_t t = 0; t < e.size(); ++t) {
        l.start.push_back(normal(rng));
        l.end.push_back(normal(rng));
      }
      logits.push_back(std::move(l));
    }
    ours.push_back(qa_pipeline_postprocess(context, w, logits, small));
    for (const QaAnswer& a : ours.back()) zero_score_answers += a.score == 0.0;
    input["pipeline"].push_back(pipeline_case(context, w, logits, small));
  }
  std::printf("pipeline, short contexts: %zu answers with score 0\n", zero_score_answers);
  EXPECT_GT(zero_score_answers, 0u);

  const json oracle = run_oracle(input);
  ASSERT_EQ(oracle["pipeline"].size(), ours.size());
  size_t answers = 0, null_answers = 0, merged = 0;
  for (size_t i = 0; i < ours.size(); ++i) {
    SCOPED_TRACE("pipeline case " + std::to_string(i));
    const json& expected = oracle["pipeline"][i];
    ASSERT_EQ(ours[i].size(), expected.size());
    for (size_t a = 0; a < ours[i].size(); ++a) {
      ++answers;
      EXPECT_EQ(ours[i][a].answer, expected[a]["answer"].get<std::string>()) << "answer " << a;
      EXPECT_EQ(ours[i][a].start, expected[a]["start"].get<int64_t>()) << "answer " << a;
      EXPECT_EQ(ours[i][a].end, expected[a]["end"].get<int64_t>()) << "answer " << a;
      expect_close(ours[i][a].score, expected[a]["score"].get<double>(), "score of answer " + std::to_string(a));
      null_answers += ours[i][a].answer.empty() && ours[i][a].start == 0 && ours[i][a].end == 0;
    }
    merged += oracle["merges"][i].get<size_t>();
  }
  std::printf("pipeline: %zu cases, %zu windows, %zu answers compared, %zu null answers, %zu merged duplicates\n",
              ours.size(), windows, answers, null_answers, merged);
  EXPECT_GT(windows, 2 * ours.size());
  EXPECT_GT(null_answers, 5u);
  EXPECT_GT(merged, 20u);
}

// Finds the first token whose vocabulary string is `token`.
size_t token_index(const Encoding& e, const std::string& token) {
  for (size_t i = 0; i < e.size(); ++i)
    if (e.tokens[i] == token) return i;
  throw Error("no token " + token);
}

// Word alignment: a span inside "huggingface" ("hugging", "##face") grows to the whole word.
TEST(QaPipeline, AlignToWordsWidensToWholeWords) {
  const std::string context = "The huggingface library is popular in Paris.";
  QaPipelineWindows w = qa_pipeline_preprocess(bert(), "What is popular?", context);
  ASSERT_EQ(w.windows.size(), 1u);
  const Encoding& e = w.windows[0];
  const size_t face = token_index(e, "##face");
  QaLogits l;
  l.start.assign(e.size(), 0.f);
  l.end.assign(e.size(), 0.f);
  l.start[face] = l.end[face] = 10.f;
  std::vector<QaAnswer> a = qa_pipeline_postprocess(context, w, {l});
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].answer, "huggingface");
  EXPECT_EQ(a[0].start, 4);
  EXPECT_EQ(a[0].end, 15);
  QaPipelineOptions o;
  o.align_to_words = false;
  a = qa_pipeline_postprocess(context, w, {l}, o);
  EXPECT_EQ(a[0].answer, "face");
  EXPECT_EQ(a[0].start, 11);
  // The question and [CLS] can never be the answer, whatever their logits; CLS gives the null answer instead.
  const size_t what = token_index(e, "what");
  l.start[what] = l.end[what] = 50.f;
  l.start[0] = l.end[0] = 40.f;
  o.align_to_words = true;
  o.handle_impossible_answer = true;
  o.top_k = 2;
  a = qa_pipeline_postprocess(context, w, {l}, o);
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[0].answer, "");
  EXPECT_GT(a[0].score, 0.99);
  EXPECT_EQ(a[1].answer, "huggingface");
  // JSON as the pipeline returns it: a list for several answers, the object itself for one.
  const json both = qa_answers_to_json(a);
  ASSERT_TRUE(both.is_array());
  EXPECT_EQ(both[1]["answer"], "huggingface");
  EXPECT_EQ(both[1]["start"], 4);
  EXPECT_EQ(both[1]["end"], 15);
  const json one = qa_answers_to_json({a[1]});
  ASSERT_TRUE(one.is_object());
  EXPECT_EQ(one["answer"], "huggingface");
  EXPECT_DOUBLE_EQ(one["score"].get<double>(), a[1].score);
}

TEST(QaPipeline, OptionErrors) {
  QaPipelineOptions o;
  o.top_k = 0;
  EXPECT_NE(error_of([&] { qa_pipeline_preprocess(bert(), "q", "c", o); }).find("top_k"), std::string::npos);
  o.top_k = 1;
  o.max_answer_len = 0;
  EXPECT_NE(error_of([&] { qa_pipeline_preprocess(bert(), "q", "c", o); }).find("max_answer_len"), std::string::npos);
  o.max_answer_len = 15;
  o.max_seq_len = 32;
  o.doc_stride = 40;
  EXPECT_NE(error_of([&] { qa_pipeline_preprocess(bert(), "q", "c", o); }).find("doc_stride"), std::string::npos);
  EXPECT_NE(error_of([&] { qa_pipeline_preprocess(bert(), "", "c"); }).find("question"), std::string::npos);
  const QaPipelineWindows w = qa_pipeline_preprocess(bert(), "q", "some context");
  EXPECT_NE(error_of([&] { qa_pipeline_postprocess("some context", w, {}); }).find("1 windows"), std::string::npos);
  QaLogits nan;
  nan.start.assign(w.windows[0].size(), 0.f);
  nan.end = nan.start;
  nan.end[2] = std::nanf("");
  EXPECT_NE(error_of([&] { qa_pipeline_postprocess("some context", w, {nan}); }).find("not finite"), std::string::npos);
}

}  // namespace
}  // namespace accent
