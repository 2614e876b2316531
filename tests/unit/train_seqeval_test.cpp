// Tests for train/seqeval: hand-checked chunking edge cases (IOB1, IOB2, BIOES, odd tags) and a randomized
// comparison with the independent stdlib-only oracle tests/reference/seqeval_oracle.py (/usr/bin/python3).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "core/fs.h"
#include "test_util.h"
#include "train/seqeval.h"

using namespace accent;
using json = nlohmann::json;

namespace {

std::vector<SeqevalEntity> entities_of(const std::vector<TagSequence>& s) { return seqeval_entities(s); }

const SeqevalTypeScores& type_scores(const SeqevalMetrics& m, const std::string& type) {
  for (const auto& t : m.per_type)
    if (t.type == type) return t;
  throw std::runtime_error("no type " + type);
}

}  // namespace

TEST(Seqeval, Iob2Entities) {
  EXPECT_EQ(entities_of({{"B-PER", "I-PER", "O", "B-LOC"}}),
            (std::vector<SeqevalEntity>{{"PER", 0, 1}, {"LOC", 3, 3}}));
  // B after B of the same type starts a new entity; I after O starts one too (lenient, conlleval-like).
  EXPECT_EQ(entities_of({{"B-PER", "B-PER", "I-PER", "O", "I-LOC", "I-LOC"}}),
            (std::vector<SeqevalEntity>{{"PER", 0, 0}, {"PER", 1, 2}, {"LOC", 4, 5}}));
  // A type change inside an I run splits it.
  EXPECT_EQ(entities_of({{"I-PER", "I-LOC"}}), (std::vector<SeqevalEntity>{{"PER", 0, 0}, {"LOC", 1, 1}}));
}

TEST(Seqeval, Iob1Entities) {
  // IOB1: I starts entities, B only separates two adjacent ones of the same type.
  EXPECT_EQ(entities_of({{"I-ORG", "I-ORG", "B-ORG", "O", "I-MISC"}}),
            (std::vector<SeqevalEntity>{{"ORG", 0, 1}, {"ORG", 2, 2}, {"MISC", 4, 4}}));
}

TEST(Seqeval, BioesEntities) {
  EXPECT_EQ(entities_of({{"S-PER", "B-LOC", "I-LOC", "E-LOC", "S-LOC", "O"}}),
            (std::vector<SeqevalEntity>{{"PER", 0, 0}, {"LOC", 1, 3}, {"LOC", 4, 4}}));
  // E after E of the same type: the first ends, the second starts a new one-token entity.
  EXPECT_EQ(entities_of({{"B-PER", "E-PER", "E-PER"}}), (std::vector<SeqevalEntity>{{"PER", 0, 1}, {"PER", 2, 2}}));
  // I after S starts a new entity; E after O starts one.
  EXPECT_EQ(entities_of({{"S-PER", "I-PER", "O", "E-LOC"}}),
            (std::vector<SeqevalEntity>{{"PER", 0, 0}, {"PER", 1, 1}, {"LOC", 3, 3}}));
}

TEST(Seqeval, SentenceBoundariesEndEntities) {
  // Sentences are joined with an "O" between them, so an I at the start of the next sentence starts anew,
  // and an entity running to the end of a sentence (or of everything) ends there. Offsets count that "O".
  EXPECT_EQ(entities_of({{"O", "B-PER", "I-PER"}, {"I-PER", "O"}, {"B-LOC"}}),
            (std::vector<SeqevalEntity>{{"PER", 1, 2}, {"PER", 4, 4}, {"LOC", 7, 7}}));
  // Empty sentences contribute just their "O".
  EXPECT_EQ(entities_of({{}, {"B-X"}}), (std::vector<SeqevalEntity>{{"X", 1, 1}}));
}

TEST(Seqeval, OddTags) {
  // No '-': the prefix is the first character and the type the rest ("_" when empty).
  EXPECT_EQ(entities_of({{"B", "I", "O"}}), (std::vector<SeqevalEntity>{{"_", 0, 1}}));
  // "PER": prefix P, type ER. A first non-O tag always starts (the initial type "" differs from every type);
  // P ends a chunk only through a type change — "O" has type "_", so it does.
  EXPECT_EQ(entities_of({{"PER", "O"}}), (std::vector<SeqevalEntity>{{"ER", 0, 0}}));
  EXPECT_EQ(entities_of({{"PER", "LOC"}}), (std::vector<SeqevalEntity>{{"ER", 0, 0}, {"OC", 1, 1}}));
  // "x" (type "_") after "O" (type "_"): no type change, so nothing starts or ends.
  EXPECT_EQ(entities_of({{"O", "x", "O"}}), (std::vector<SeqevalEntity>{}));
  // Type after the first '-' of the rest: "B-PER-X" → PER-X; "BPER" → PER; "B-" → "_".
  EXPECT_EQ(entities_of({{"B-PER-X", "BPER", "B-"}}),
            (std::vector<SeqevalEntity>{{"PER-X", 0, 0}, {"PER", 1, 1}, {"_", 2, 2}}));
  // '.' neither ends nor starts on a type change: after B-PER, ".-LOC" ends PER but starts nothing, so the
  // LOC chunk that I-LOC continues is emitted with the stale start 0. "x" after B-PER ends PER and (type
  // change) starts a chunk that the next type change ends with type "_".
  EXPECT_EQ(entities_of({{"B-PER", ".-LOC", "I-LOC"}}), (std::vector<SeqevalEntity>{{"PER", 0, 0}, {"LOC", 0, 2}}));
  EXPECT_EQ(entities_of({{"B-PER", "x", "I-PER"}}),
            (std::vector<SeqevalEntity>{{"PER", 0, 0}, {"_", 1, 1}, {"PER", 2, 2}}));
  // The prefix is the first code point, not the first byte.
  EXPECT_EQ(entities_of({{"É-PER", "I-PER"}}), (std::vector<SeqevalEntity>{{"PER", 0, 1}}));
  EXPECT_THROW(entities_of({{"B-PER", ""}}), Error);
}

TEST(Seqeval, MetricsOfTheSeqevalReadmeExample) {
  // seqeval's README: MISC is predicted one token early, PER right.
  const std::vector<TagSequence> gold = {{"O", "O", "O", "B-MISC", "I-MISC", "I-MISC", "O"}, {"B-PER", "I-PER", "O"}};
  const std::vector<TagSequence> pred = {{"O", "O", "B-MISC", "I-MISC", "I-MISC", "I-MISC", "O"},
                                         {"B-PER", "I-PER", "O"}};
  const SeqevalMetrics m = seqeval_metrics(gold, pred);
  EXPECT_DOUBLE_EQ(m.overall_precision, 0.5);
  EXPECT_DOUBLE_EQ(m.overall_recall, 0.5);
  EXPECT_DOUBLE_EQ(m.overall_f1, 0.5);
  EXPECT_DOUBLE_EQ(m.overall_accuracy, 0.8);  // tokens 2 and 3 differ
  ASSERT_EQ(m.per_type.size(), 2u);
  EXPECT_EQ(m.per_type[0].type, "MISC");
  EXPECT_EQ(m.per_type[1].type, "PER");
  EXPECT_EQ(type_scores(m, "MISC").f1, 0.0);
  EXPECT_EQ(type_scores(m, "PER").f1, 1.0);
  const json j = m.to_json();
  EXPECT_EQ(j["PER"], json({{"precision", 1.0}, {"recall", 1.0}, {"f1", 1.0}, {"number", 1}}));
  EXPECT_EQ(j.size(), 6u);  // two types + the four overall keys
  EXPECT_DOUBLE_EQ(j["overall_accuracy"].get<double>(), 0.8);
}

TEST(Seqeval, PredictedOnlyTypesAndEmptyPredictions) {
  // A type only predicted is reported with number 0, precision 0; gold-only types with recall 0.
  const SeqevalMetrics m = seqeval_metrics({{"B-PER", "O"}}, {{"O", "B-LOC"}});
  ASSERT_EQ(m.per_type.size(), 2u);
  EXPECT_EQ(type_scores(m, "LOC").number, 0);
  EXPECT_EQ(type_scores(m, "LOC").precision, 0.0);
  EXPECT_EQ(type_scores(m, "PER").number, 1);
  EXPECT_EQ(type_scores(m, "PER").recall, 0.0);
  EXPECT_EQ(m.overall_f1, 0.0);
  // Nothing predicted: zero_division gives 0 everywhere, no NaN.
  const SeqevalMetrics none = seqeval_metrics({{"B-PER", "I-PER", "O"}}, {{"O", "O", "O"}});
  EXPECT_EQ(none.overall_precision, 0.0);
  EXPECT_EQ(none.overall_recall, 0.0);
  EXPECT_EQ(none.overall_f1, 0.0);
  EXPECT_DOUBLE_EQ(none.overall_accuracy, 1.0 / 3.0);
  // No entities anywhere: only the overall keys.
  const SeqevalMetrics empty = seqeval_metrics({{"O"}}, {{"O"}});
  EXPECT_TRUE(empty.per_type.empty());
  EXPECT_EQ(empty.to_json().size(), 4u);
  EXPECT_EQ(empty.overall_accuracy, 1.0);
}

TEST(Seqeval, SchemesMixedAcrossGoldAndPrediction) {
  // Gold in IOB2, prediction in BIOES: the same spans are the same entities.
  const SeqevalMetrics m = seqeval_metrics({{"B-PER", "I-PER", "O", "B-LOC"}}, {{"B-PER", "E-PER", "O", "S-LOC"}});
  EXPECT_EQ(m.overall_f1, 1.0);
  EXPECT_EQ(m.correct_entities, 2);
  EXPECT_DOUBLE_EQ(m.overall_accuracy, 0.5);
}

TEST(Seqeval, RejectsMismatchedInput) {
  EXPECT_THROW(seqeval_metrics({{"O"}}, {}), Error);
  EXPECT_THROW(seqeval_metrics({}, {}), Error);
  EXPECT_THROW(seqeval_metrics({{}}, {{}}), Error);  // no tokens: accuracy undefined
  try {
    seqeval_metrics({{"O"}, {"O", "B-X"}}, {{"O"}, {"O"}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("sentence 1"), std::string::npos) << e.what();
  }
}

TEST(Seqeval, MatchesIndependentOracleOnRandomSentences) {
  std::mt19937_64 rng(20261206);
  const std::vector<std::string> tags = {
      "O",      "O",       "O",     "O",     "B-PER", "I-PER", "E-PER", "S-PER", "B-LOC", "I-LOC", "E-LOC",  "S-LOC",
      "B-MISC", "I-MISC",  "B-ORG", "I-ORG", "E-ORG", "S-ORG", "B",     "I",     "E",     "S",     ".",      ".-PER",
      "PER",    "B-PER-X", "BPER",  "B-",    "x",     "I-é",   "É-PER", "B-Ünï", "O-PER", "-",     "I-PER-X"};
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  json cases = json::array();
  std::vector<std::pair<std::vector<TagSequence>, std::vector<TagSequence>>> inputs;
  int64_t sentences = 0;
  for (int c = 0; c < 500; ++c) {
    // Half the cases use a clean IOB2/BIOES subset, half everything (odd tags included).
    const size_t alphabet = c % 2 == 0 ? 18 : tags.size();
    std::vector<TagSequence> gold, pred;
    const size_t n_sent = 1 + pick(12);
    for (size_t s = 0; s < n_sent; ++s) {
      const size_t len = pick(12);  // empty sentences included
      TagSequence g, p;
      for (size_t t = 0; t < len; ++t) {
        g.push_back(tags[pick(alphabet)]);
        p.push_back(pick(4) == 0 ? tags[pick(alphabet)] : g.back());  // mostly right
      }
      gold.push_back(g);
      pred.push_back(p);
    }
    if (gold.size() == 1 && gold[0].empty()) gold[0] = pred[0] = {"O"};
    bool any_token = false;
    for (const auto& s : gold) any_token |= !s.empty();
    if (!any_token) gold.back() = pred.back() = {"B-PER"};
    sentences += static_cast<int64_t>(gold.size());
    cases.push_back({{"gold", gold}, {"pred", pred}});
    inputs.emplace_back(std::move(gold), std::move(pred));
  }
  accent::testing::TempDir dir("seqeval");
  write_file_atomic(dir / "cases.json", cases.dump());
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/seqeval_oracle.py " +
                          accent::testing::shell_quote(dir / "cases.json") + " " +
                          accent::testing::shell_quote(dir / "out.json");
  const accent::testing::CmdResult r = accent::testing::run_command(cmd);
  ASSERT_EQ(r.rc, 0) << cmd << "\n" << r.out;
  const json out = json::parse(read_file(dir / "out.json"));
  ASSERT_EQ(out.size(), inputs.size());

  int64_t entities_compared = 0, types_compared = 0;
  for (size_t c = 0; c < inputs.size(); ++c) {
    SCOPED_TRACE("case " + std::to_string(c) + ": " + cases[c].dump());
    const auto& [gold, pred] = inputs[c];
    const json& want = out[c];
    std::vector<SeqevalEntity> want_gold, want_pred;
    for (const auto& e : want["gold_entities"]) want_gold.push_back({e[0], e[1], e[2]});
    for (const auto& e : want["pred_entities"]) want_pred.push_back({e[0], e[1], e[2]});
    ASSERT_EQ(seqeval_entities(gold), want_gold);
    ASSERT_EQ(seqeval_entities(pred), want_pred);
    entities_compared += static_cast<int64_t>(want_gold.size() + want_pred.size());

    const SeqevalMetrics m = seqeval_metrics(gold, pred);
    EXPECT_EQ(m.tokens, want["tokens"].get<int64_t>());
    EXPECT_EQ(m.tokens_correct, want["tokens_correct"].get<int64_t>());
    EXPECT_NEAR(m.overall_accuracy, want["accuracy"].get<double>(), 1e-12);
    const json& o = want["overall"];
    EXPECT_EQ(m.gold_entities, o["number"].get<int64_t>());
    EXPECT_EQ(m.predicted_entities, o["predicted"].get<int64_t>());
    EXPECT_EQ(m.correct_entities, o["correct"].get<int64_t>());
    EXPECT_NEAR(m.overall_precision, o["precision"].get<double>(), 1e-12);
    EXPECT_NEAR(m.overall_recall, o["recall"].get<double>(), 1e-12);
    EXPECT_NEAR(m.overall_f1, o["f1"].get<double>(), 1e-12);
    ASSERT_EQ(m.per_type.size(), want["types"].size());
    for (size_t k = 0; k < m.per_type.size(); ++k) {
      const SeqevalTypeScores& t = m.per_type[k];
      const json& w = want["types"][k];
      EXPECT_EQ(t.type, w["type"].get<std::string>());
      EXPECT_EQ(t.number, w["number"].get<int64_t>());
      EXPECT_EQ(t.predicted, w["predicted"].get<int64_t>());
      EXPECT_EQ(t.correct, w["correct"].get<int64_t>());
      EXPECT_NEAR(t.precision, w["precision"].get<double>(), 1e-12);
      EXPECT_NEAR(t.recall, w["recall"].get<double>(), 1e-12);
      EXPECT_NEAR(t.f1, w["f1"].get<double>(), 1e-12);
      ++types_compared;
    }
  }
  std::printf("seqeval oracle: %zu cases, %lld sentences, %lld entities, %lld per-type rows compared\n", inputs.size(),
              static_cast<long long>(sentences), static_cast<long long>(entities_compared),
              static_cast<long long>(types_compared));
}
