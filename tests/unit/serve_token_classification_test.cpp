// serve_token_classification_test.cpp — serve/token_classification.h, pipeline("ner") post-processing:
//  - by hand on small cases whose answers follow from the pipeline's rules;
//  - against tests/reference/ner_pipeline_oracle.py (an independent Python/numpy model of
//    TokenClassificationPipeline.postprocess) on real WNUT-17 texts encoded by bert-base-uncased, roberta-base and
//    GPT-2 with random logits, all five aggregation strategies, every field compared (scores to 1e-6 relative).
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <fstream>
#include <random>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "data/ner_data.h"
#include "serve/token_classification.h"
#include "test_util.h"
#include "text/decoder.h"
#include "text/tokenizer.h"
#include "text/tokenizer_state.h"

namespace accent {
namespace {

const std::string kData = ACCENT_TEST_DATA_DIR;
const std::string kVocab = kData + "/vocab";
constexpr AggregationStrategy kStrategies[] = {AggregationStrategy::None, AggregationStrategy::Simple,
                                               AggregationStrategy::First, AggregationStrategy::Average,
                                               AggregationStrategy::Max};

Encoding pipeline_encode(const Tokenizer& tok, const std::string& text) {
  EncodeOptions options;  // the pipeline's preprocess: truncation when there is a model_max_length, offsets
  options.return_offsets_mapping = true;
  if (tok.model_max_length() != Tokenizer::kNoModelMaxLength) options.truncation = TruncationStrategy::LongestFirst;
  return tok.encode(text, std::nullopt, options);
}

// Logits (T, C) that make token t predict label[t] with a margin.
std::vector<float> logits_for(const std::vector<int>& labels, size_t num_labels) {
  std::vector<float> out(labels.size() * num_labels, 0.f);
  for (size_t t = 0; t < labels.size(); ++t)
    if (labels[t] >= 0) out[t * num_labels + static_cast<size_t>(labels[t])] = 4.f + static_cast<float>(t % 3);
  return out;
}

TEST(TokenClassification, SubwordSplitByHand) {
  const Tokenizer bert = Tokenizer::from_pretrained(kVocab + "/bert-base-uncased");
  const std::string text = "Johanssonberg lives in Oslo";
  const Encoding e = pipeline_encode(bert, text);
  ASSERT_EQ(e.tokens, (std::vector<std::string>{"[CLS]", "johansson", "##berg", "lives", "in", "oslo", "[SEP]"}));
  const std::vector<std::string> id2label = {"O", "B-PER", "I-PER", "B-LOC", "I-LOC"};
  // johansson: B-PER, ##berg: B-LOC (stronger), lives/in: O, oslo: B-LOC.
  const std::vector<float> logits = logits_for({-1, 1, 3, 0, 0, 3, -1}, id2label.size());
  TokenClassificationOptions o;
  auto run = [&](AggregationStrategy s) {
    o.aggregation_strategy = s;
    return ner_entities_to_json(token_classification_postprocess(bert, e, text, logits, id2label, o), s);
  };
  const nlohmann::ordered_json none = run(AggregationStrategy::None);
  ASSERT_EQ(none.size(), 3u);
  EXPECT_EQ(none[0]["entity"], "B-PER");
  EXPECT_EQ(none[0]["index"], 1);
  EXPECT_EQ(none[0]["word"], "johansson");
  EXPECT_EQ(none[1]["word"], "##berg");
  EXPECT_EQ(none[1]["start"], 9);
  EXPECT_EQ(none[1]["end"], 13);
  EXPECT_EQ(none[0].begin().key(), "entity");
  // simple: ##berg's B-LOC starts a new group, whose word keeps its "##" (it is the group's first token).
  const nlohmann::ordered_json simple = run(AggregationStrategy::Simple);
  ASSERT_EQ(simple.size(), 3u);
  EXPECT_EQ(simple[0]["entity_group"], "PER");
  EXPECT_EQ(simple[1]["entity_group"], "LOC");
  EXPECT_EQ(simple[1]["word"], "##berg");
  EXPECT_FALSE(simple[0].contains("index"));
  // first: the word takes its first token's label; max: the token with the larger top probability (##berg).
  const nlohmann::ordered_json first = run(AggregationStrategy::First);
  ASSERT_EQ(first.size(), 2u);
  EXPECT_EQ(first[0]["entity_group"], "PER");
  EXPECT_EQ(first[0]["word"], "johanssonberg");
  EXPECT_EQ(first[0]["start"], 0);
  EXPECT_EQ(first[0]["end"], 13);
  EXPECT_EQ(first[1]["word"], "oslo");
  const nlohmann::ordered_json max = run(AggregationStrategy::Max);
  EXPECT_EQ(max[0]["entity_group"], "LOC");
  EXPECT_EQ(max[0]["word"], "johanssonberg");
  // max with equal top probabilities: the first token wins.
  const std::vector<float> tied = logits_for({-1, 1, 3, 0, 0, 3, -1}, id2label.size());
  std::vector<float> tied_equal = tied;
  tied_equal[1 * id2label.size() + 1] = tied_equal[2 * id2label.size() + 3];
  o.aggregation_strategy = AggregationStrategy::Max;
  EXPECT_EQ(token_classification_postprocess(bert, e, text, tied_equal, id2label, o)[0].label, "PER");
  // ignore_labels = [] keeps the O groups.
  o.ignore_labels.clear();
  EXPECT_EQ(run(AggregationStrategy::Simple).size(), 4u);
}

TEST(TokenClassification, UnknownTokenTakesTheText) {
  const Tokenizer bert = Tokenizer::from_pretrained(kVocab + "/bert-base-uncased");
  const std::string text = "hi \xF0\x9F\xA6\x84 there";  // U+1F984 is [UNK] for bert-base-uncased
  const Encoding e = pipeline_encode(bert, text);
  ASSERT_EQ(e.tokens[2], "[UNK]");
  const std::vector<std::string> id2label = {"O", "B-X"};
  const auto out = token_classification_postprocess(bert, e, text, logits_for({-1, 1, 1, 1, -1}, 2), id2label, {});
  ASSERT_EQ(out.size(), 3u);
  EXPECT_EQ(out[1].word, "\xF0\x9F\xA6\x84");
  EXPECT_EQ(out[1].start, 3);  // code points
  EXPECT_EQ(out[1].end, 4);
  EXPECT_EQ(out[2].start, 5);
}

TEST(TokenClassification, ClearErrors) {
  const Tokenizer bert = Tokenizer::from_pretrained(kVocab + "/bert-base-uncased");
  const Encoding e = pipeline_encode(bert, "hello");
  EXPECT_THROW(token_classification_postprocess(bert, e, "hello", std::vector<float>(5, 0.f), {"O", "B-X"}), Error);
  Encoding no_offsets = bert.encode("hello");
  EXPECT_THROW(token_classification_postprocess(bert, no_offsets, "hello", std::vector<float>(6, 0.f), {"O", "B-X"}),
               Error);
  EXPECT_EQ(parse_aggregation_strategy("AVERAGE"), AggregationStrategy::Average);
  EXPECT_THROW(parse_aggregation_strategy("mean"), Error);
}

// Real texts: the WNUT-17 sentences, some joined by plain spaces, some without the space before punctuation and
// after @ / # (as the text was written), so both kinds of word boundaries occur.
std::vector<std::string> wnut_texts(size_t count) {
  std::vector<std::string> texts;
  const auto sentences = read_conll_file(kData + "/token-classification/wnut17/emerging.dev.conll");
  for (size_t i = 0; i < sentences.size() && texts.size() < count; ++i) {
    std::string t;
    for (size_t w = 0; w < sentences[i].tokens.size(); ++w) {
      const std::string& word = sentences[i].tokens[w];
      const bool glue = i % 2 == 1 && w > 0 &&
                        (word.find_first_of(".,!?:;'") == 0 || t.back() == '@' || t.back() == '#');
      t += (w == 0 || glue ? "" : " ") + word;
    }
    texts.push_back(t);
  }
  return texts;
}

struct PipelineCase {
  const Tokenizer* tok;
  std::string tokenizer_name, text;
  Encoding encoding;
  std::vector<float> logits;
  const std::vector<std::string>* id2label;
  std::vector<std::string> ignore_labels;
};

TEST(TokenClassification, MatchesPythonPipelineModel) {
  const Tokenizer bert = Tokenizer::from_pretrained(kVocab + "/bert-base-uncased");
  const Tokenizer roberta = Tokenizer::from_pretrained(kVocab + "/roberta-base");
  const Tokenizer gpt2 = Tokenizer::from_gpt2_files(kVocab + "/gpt2/vocab.json", kVocab + "/gpt2/merges.txt");
  const std::vector<std::pair<std::string, const Tokenizer*>> tokenizers = {
      {"bert-base-uncased", &bert}, {"roberta-base", &roberta}, {"gpt2", &gpt2}};
  const auto train = read_conll_file(kData + "/token-classification/wnut17/wnut17train.conll");
  const std::vector<std::string> wnut_labels = label_list(train);
  // Labels beyond B-/I-: bare tags, a dash inside the tag, "B-" twice.
  const std::vector<std::string> odd_labels = {"O", "B-PER", "I-PER", "PER", "LOC-city", "B-B-x", "I-B-x"};
  const std::vector<std::string> texts = wnut_texts(400);

  std::mt19937 rng(2017);
  std::normal_distribution<float> normal(0.f, 2.f);
  std::vector<PipelineCase> cases;
  for (const auto& [name, tok] : tokenizers)
    for (size_t i = 0; i < texts.size(); ++i) {
      PipelineCase c{tok, name, texts[i], pipeline_encode(*tok, texts[i]), {}, i % 3 == 2 ? &odd_labels : &wnut_labels,
                     i % 4 == 3 ? std::vector<std::string>{} : std::vector<std::string>{"O"}};
      const size_t num_labels = c.id2label->size();
      for (size_t t = 0; t < c.encoding.size(); ++t) {
        if (i % 7 == 6) {
          // Exact ties: one or two labels at 0, the rest at -200 (exp underflows to 0 in float32), so every token's
          // top probability is exactly 1 or 0.5 — max's "first token wins" and argmax's "first label wins" rules
          // decide, not rounding. (Near ties at the last bit are not comparable: numpy's float32 exp is a SIMD
          // polynomial that differs from the C library's expf by one ulp on ~10% of values.)
          std::vector<float> row(num_labels, -200.f);
          row[rng() % num_labels] = 0.f;
          if (rng() % 3 == 0) row[rng() % num_labels] = 0.f;
          c.logits.insert(c.logits.end(), row.begin(), row.end());
          continue;
        }
        for (size_t k = 0; k < num_labels; ++k) {
          float v = normal(rng) + (k == 0 ? 1.f : 0.f);  // "O" a little more likely
          if (i % 5 == 4) v = std::round(v);             // whole numbers: equal scores, first-maximum ties
          c.logits.push_back(v);
        }
      }
      cases.push_back(std::move(c));
    }

  nlohmann::json job = {{"cases", nlohmann::json::array()}};
  for (const PipelineCase& c : cases) {
    const text::TokenizerState& s = c.tok->state();
    nlohmann::json id_tokens = nlohmann::json::array(), offsets = nlohmann::json::array(),
                   logits = nlohmann::json::array();
    for (size_t t = 0; t < c.encoding.size(); ++t) {
      id_tokens.push_back(c.tok->id_to_token(c.encoding.ids[t]));
      offsets.push_back({c.encoding.offsets[t].first, c.encoding.offsets[t].second});
      logits.push_back(std::vector<float>(c.logits.begin() + static_cast<long>(t * c.id2label->size()),
                                          c.logits.begin() + static_cast<long>((t + 1) * c.id2label->size())));
    }
    const auto unk = c.tok->special_token("unk_token");
    const std::string prefix = s.wordpiece ? s.wordpiece->continuing_subword_prefix()
                                           : s.bpe->options().continuing_subword_prefix.value_or("");
    nlohmann::json strategies = nlohmann::json::array();
    for (AggregationStrategy a : kStrategies) strategies.push_back(aggregation_strategy_name(a));
    job["cases"].push_back({{"text", c.text},
                            {"ids", c.encoding.ids},
                            {"id_tokens", id_tokens},
                            {"offsets", offsets},
                            {"special_tokens_mask", c.encoding.special_tokens_mask},
                            {"logits", logits},
                            {"id2label", *c.id2label},
                            {"unk_token_id", unk ? nlohmann::json(*c.tok->token_to_id(*unk)) : nlohmann::json()},
                            {"continuing_subword_prefix", prefix},
                            {"decoder", nlohmann::json::parse(s.decoder.dump())},
                            {"strategies", strategies},
                            {"ignore_labels", c.ignore_labels}});
  }
  testing::TempDir dir("ner_pipeline");
  std::ofstream(dir / "cases.json") << job.dump();
  const testing::CmdResult r = testing::run_command("/usr/bin/python3 '" + std::string(ACCENT_SOURCE_DIR) +
                                                    "/tests/reference/ner_pipeline_oracle.py' '" + dir / "cases.json" +
                                                    "' '" + dir / "out.json" + "'");
  ASSERT_EQ(r.rc, 0) << r.out;
  nlohmann::json out;
  std::ifstream(dir / "out.json") >> out;
  ASSERT_EQ(out["results"].size(), cases.size());

  std::map<std::string, std::array<size_t, 5>> entities_per_strategy;
  size_t compared = 0, differences = 0, subword_groups = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const PipelineCase& c = cases[i];
    for (size_t k = 0; k < 5; ++k) {
      const AggregationStrategy strategy = kStrategies[k];
      TokenClassificationOptions o;
      o.aggregation_strategy = strategy;
      o.ignore_labels = c.ignore_labels;
      const nlohmann::ordered_json got = ner_entities_to_json(
          token_classification_postprocess(*c.tok, c.encoding, c.text, c.logits, *c.id2label, o), strategy);
      const nlohmann::json& want = out["results"][i][k];
      entities_per_strategy[c.tokenizer_name][k] += got.size();
      bool same = got.size() == want.size();
      for (size_t n = 0; same && n < got.size(); ++n) {
        std::vector<std::string> got_keys, want_keys;
        for (auto it = got[n].begin(); it != got[n].end(); ++it) got_keys.push_back(it.key());
        for (auto it = want[n].begin(); it != want[n].end(); ++it) want_keys.push_back(it.key());
        std::sort(got_keys.begin(), got_keys.end());
        std::sort(want_keys.begin(), want_keys.end());
        same = got_keys == want_keys;
        for (const std::string& key : got_keys) {
          if (!same) break;
          if (key == "score") {
            const double a = got[n][key].get<double>(), b = want[n][key].get<double>();
            same = std::fabs(a - b) <= 1e-6 * std::fabs(b);
          } else {
            same = got[n][key] == want[n][key];
          }
        }
        if (strategy != AggregationStrategy::None && got[n]["word"].get<std::string>().find(' ') != std::string::npos)
          ++subword_groups;
      }
      ++compared;
      if (!same && ++differences <= 5)
        ADD_FAILURE() << c.tokenizer_name << " " << aggregation_strategy_name(strategy) << " on '" << c.text
                      << "'\n got  " << got.dump() << "\n want " << want.dump();
    }
  }
  for (const auto& [name, counts] : entities_per_strategy) {
    std::printf("[ner_pipeline] %-17s entities: none %zu, simple %zu, first %zu, average %zu, max %zu\n", name.c_str(),
                counts[0], counts[1], counts[2], counts[3], counts[4]);
    for (size_t count : counts) EXPECT_GT(count, 100u) << name;
  }
  std::printf("[ner_pipeline] %zu (text, strategy) outputs compared, %zu groups spanning several words, "
              "%zu differences\n", compared, subword_groups, differences);
  EXPECT_EQ(differences, 0u);
}

}  // namespace
}  // namespace accent
