// Tests for train/squad_metrics: hand-checked normalisation (articles, punctuation, Unicode case and
// whitespace), token F1, the v1.1 and v2.0 aggregates, and a randomized comparison with the independent
// stdlib-only oracle tests/reference/squad_oracle.py (/usr/bin/python3's own lower/re/split).
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <random>

#include "core/error.h"
#include "core/fs.h"
#include "test_util.h"
#include "text/unicode.h"
#include "train/squad_metrics.h"

using namespace accent;
using json = nlohmann::json;

TEST(SquadNormalize, ArticlesPunctuationAndSpaces) {
  EXPECT_EQ(squad_normalize_answer("The Cat!"), "cat");
  EXPECT_EQ(squad_normalize_answer("  A man, a plan, a canal: Panama "), "man plan canal panama");
  EXPECT_EQ(squad_normalize_answer("an apple and THE pear"), "apple and pear");
  EXPECT_EQ(squad_normalize_answer("theory another anthem"), "theory another anthem");  // whole words only
  EXPECT_EQ(squad_normalize_answer("(the)"), "");
  // Punctuation goes first, so it can glue words: "l'an" → "lan", "the-end" → "theend".
  EXPECT_EQ(squad_normalize_answer("l'an the-end"), "lan theend");
  // '_' is in string.punctuation; "\\b" then sees one word.
  EXPECT_EQ(squad_normalize_answer("a_b the_"), "ab");
  EXPECT_EQ(squad_normalize_answer(""), "");
  EXPECT_EQ(squad_normalize_answer(" \t\n"), "");
}

TEST(SquadNormalize, UnicodeRules) {
  // Non-ASCII punctuation stays; articles between it are still whole words.
  EXPECT_EQ(squad_normalize_answer("\xE2\x80\x9Cthe\xE2\x80\x9D end"), "\xE2\x80\x9C \xE2\x80\x9D end");
  EXPECT_EQ(squad_normalize_answer("\xC2\xBFQu\xC3\xA9?"), "\xC2\xBFqu\xC3\xA9");  // ¿Qué? → ¿qué
  // Unicode whitespace (NBSP, ideographic space, thin space) splits; zero-width space does not.
  EXPECT_EQ(squad_normalize_answer("\xC2\xA0the\xE3\x80\x80"
                                   "cat\xE2\x80\x89"),
            "cat");
  EXPECT_EQ(squad_normalize_answer("\xE2\x80\x8Bthe"), "\xE2\x80\x8B");
  // Letters with diacritics are word characters; a combining mark is not, so "á" written as a + U+0301 is
  // the article "a" followed by a lone mark.
  EXPECT_EQ(squad_normalize_answer("Caf\xC3\xA9 a\xCC\x81"), "caf\xC3\xA9 \xCC\x81");
  // Fullwidth Ａ lowercases to ａ, which is not the article.
  EXPECT_EQ(squad_normalize_answer("\xEF\xBC\xA1"), "\xEF\xBD\x81");
  // Full lowercase mapping: İ → i + U+0307; ß stays.
  EXPECT_EQ(squad_normalize_answer("\xC4\xB0stanbul STRA\xC3\x9F"
                                   "E"),
            "i\xCC\x87stanbul stra\xC3\x9F"
            "e");
  // Final sigma: ΟΔΟΣ → οδος (ς), ΣΑΣ. → σας, but a following letter after an apostrophe keeps σ.
  EXPECT_EQ(squad_normalize_answer("\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3"), "\xCE\xBF\xCE\xB4\xCE\xBF\xCF\x82");
  EXPECT_EQ(squad_normalize_answer("\xCE\xA3\xCE\x91\xCE\xA3."), "\xCF\x83\xCE\xB1\xCF\x82");
  EXPECT_EQ(squad_normalize_answer("\xCE\x9F\xCE\xA3'\xCE\x91"), "\xCE\xBF\xCF\x83\xCE\xB1");
  EXPECT_EQ(squad_normalize_answer("\xCE\xA3"), "\xCF\x83");  // nothing cased before it
}

TEST(SquadScores, TokenF1AndExact) {
  EXPECT_EQ(squad_exact("The Eiffel Tower.", "eiffel tower"), 1);
  EXPECT_EQ(squad_exact("Eiffel", "eiffel tower"), 0);
  // pred {cat, sat}, gold {cat, sat, on, mat}: P = 1, R = 1/2.
  EXPECT_DOUBLE_EQ(squad_v1_f1("the cat sat", "a cat sat on the mat"), 2.0 / 3.0);
  // Counter overlap counts multiplicity: pred {x, x, y}, gold {x, y, y}: common = 2.
  EXPECT_DOUBLE_EQ(squad_v1_f1("x x y", "x y y"), 2.0 / 3.0);
  // Empty sides: v1.1 gives 0 (no common token), v2.0 gives [both empty].
  EXPECT_EQ(squad_v1_f1("", ""), 0.0);
  EXPECT_EQ(squad_v2_f1("the", ""), 1.0);
  EXPECT_EQ(squad_v2_f1("", "Paris"), 0.0);
  EXPECT_DOUBLE_EQ(squad_v2_f1("Paris, France", "paris"), 2.0 * 0.5 * 1.0 / 1.5);
}

TEST(SquadScores, V1AveragesAndUnanswered) {
  const std::vector<SquadReference> refs = {
      {"q1", {"Denver Broncos", "The Broncos"}}, {"q2", {"Santa Clara"}}, {"q3", {"1970"}}};
  const std::vector<SquadPrediction> preds = {{"q1", "broncos"}, {"q2", "Santa Clara, California"}, {"zz", "ignored"}};
  const SquadV1Scores s = squad_v1_scores(preds, refs);
  EXPECT_EQ(s.total, 3);
  EXPECT_EQ(s.unanswered, std::vector<std::string>{"q3"});
  // q1: exact with "The Broncos"; q2: F1 = 2·(2/3)·1/(5/3) = 0.8; q3 unanswered: 0.
  EXPECT_DOUBLE_EQ(s.exact_match, 100.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.f1, 100.0 * (1.0 + 0.8) / 3.0);
  EXPECT_EQ(s.to_json().size(), 2u);
  EXPECT_DOUBLE_EQ(s.to_json()["exact_match"].get<double>(), 100.0 / 3.0);
  EXPECT_THROW(squad_v1_scores(preds, {}), Error);
  EXPECT_THROW(squad_v1_scores(preds, {{"q1", {}}}), Error);
  EXPECT_THROW(squad_v1_scores({{"q1", "a"}, {"q1", "b"}}, refs), Error);
}

TEST(SquadScores, V2HasAnsNoAnsAndBestThreshold) {
  const std::vector<SquadReference> refs = {{"q1", {"Paris"}}, {"q2", {}}, {"q3", {"the Moon", "Moon"}}};
  const std::vector<SquadPrediction> preds = {{"q1", "paris", 0.1}, {"q2", "", 0.9}, {"q3", "sun", 0.5}};
  const SquadV2Scores s = squad_v2_scores(preds, refs);
  EXPECT_DOUBLE_EQ(s.all.exact, 200.0 / 3.0);
  EXPECT_DOUBLE_EQ(s.all.f1, 200.0 / 3.0);
  EXPECT_EQ(s.all.total, 3);
  ASSERT_TRUE(s.has_answer && s.no_answer);
  EXPECT_DOUBLE_EQ(s.has_answer->exact, 50.0);
  EXPECT_EQ(s.has_answer->total, 2);
  EXPECT_DOUBLE_EQ(s.no_answer->exact, 100.0);
  // Sweep (by probability q1, q3, q2) from 1 (q2 unanswerable): q1 +1 → 2 at 0.1; q3 +0; q2 "" → 0.
  EXPECT_DOUBLE_EQ(s.best_exact, 200.0 / 3.0);
  EXPECT_EQ(s.best_exact_thresh, 0.1);
  EXPECT_EQ(s.best_f1_thresh, 0.1);
  const json j = s.to_json();
  for (const char* key : {"exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact",
                          "NoAns_f1", "NoAns_total", "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh"})
    EXPECT_TRUE(j.contains(key)) << key;
  EXPECT_EQ(j.size(), 13u);
  EXPECT_EQ(j["total"], 3);

  // Threshold 0.05: every question is predicted unanswerable — q1 and q3 score 0, q2 scores 1.
  const SquadV2Scores low = squad_v2_scores(preds, refs, 0.05);
  EXPECT_DOUBLE_EQ(low.all.exact, 100.0 / 3.0);
  EXPECT_DOUBLE_EQ(low.best_exact, 200.0 / 3.0);  // the sweep uses the raw scores

  // Only answerable questions: no NoAns_* keys. Gold answers normalising to "" count as "has answer" but
  // are dropped, leaving [""]: a prediction of "the" then matches exactly.
  const SquadV2Scores only = squad_v2_scores({{"a", "The"}}, {{"a", {"an", "."}}});
  EXPECT_FALSE(only.no_answer.has_value());
  EXPECT_EQ(only.all.exact, 100.0);
  EXPECT_EQ(only.to_json().size(), 10u);
}

TEST(SquadScores, V2MissingPredictionNamesTheQuestion) {
  try {
    squad_v2_scores({{"q1", "x"}}, {{"q1", {"x"}}, {"q-missing", {}}});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("q-missing"), std::string::npos) << e.what();
  }
  EXPECT_THROW(squad_v2_scores({}, {}), Error);
}

namespace {

// Random answer text from pieces that exercise every normalisation step.
std::string random_text(std::mt19937_64& rng) {
  static const std::vector<std::string> words = {"the",
                                                 "The",
                                                 "THE",
                                                 "a",
                                                 "A",
                                                 "an",
                                                 "An",
                                                 "cat",
                                                 "Cat",
                                                 "dog",
                                                 "theory",
                                                 "another",
                                                 "Denver",
                                                 "Broncos",
                                                 "1970",
                                                 "x2",
                                                 "_",
                                                 "an_",
                                                 "th\xC3\xA9\xC3\xA2tre",
                                                 "Stra\xC3\x9F"
                                                 "e",
                                                 "\xCE\x9F\xCE\x94\xCE\x9F\xCE\xA3",
                                                 "\xCE\xA3",
                                                 "\xCE\xA3\xCE\x91\xCE\xA3",
                                                 "\xCF\x83",
                                                 "\xC4\xB0stanbul",
                                                 "na\xC3\xAFve",
                                                 "a\xCC\x81",
                                                 "\xEF\xBC\xA1",
                                                 "\xE6\x97\xA5\xE6\x9C\xAC",
                                                 "\xD9\xA3",
                                                 "\xC2\xBD",
                                                 "\xC3\x89T\xC3\x89",
                                                 "\xE2\x85\xA0",
                                                 "\xE2\x92\xB6",
                                                 "\xC2\xAA",
                                                 "\xCA\xB0"};
  static const std::vector<std::string> marks = {",",
                                                 ".",
                                                 "'",
                                                 "\"",
                                                 "-",
                                                 "(",
                                                 ")",
                                                 "!",
                                                 "?",
                                                 ":",
                                                 ";",
                                                 "_",
                                                 "\xE2\x80\x9C",
                                                 "\xE2\x80\x9D",
                                                 "\xE2\x80\x94",
                                                 "\xC2\xBF",
                                                 "\xE2\x80\xA6",
                                                 "\xC2\xAB",
                                                 "\xC2\xBB",
                                                 "\xE2\x80\x99",
                                                 "\xC2\xB7",
                                                 "\xE2\x82\xAC"};
  static const std::vector<std::string> spaces = {
      " ",    " ",        " ", "  ", "\t", "\n", "\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\x89", "\xE2\x80\x8B",
      "\x1C", "\xC2\x85", ""};
  auto pick = [&](const std::vector<std::string>& v) { return v[rng() % v.size()]; };
  std::string s;
  const size_t n = rng() % 7;
  for (size_t i = 0; i < n; ++i) {
    if (rng() % 4 == 0) s += pick(marks);
    s += pick(words);
    if (rng() % 4 == 0) s += pick(marks);
    s += pick(spaces);
  }
  return s;
}

}  // namespace

TEST(SquadScores, MatchIndependentOracleOnRandomAnswers) {
  std::mt19937_64 rng(7 * 20261206);
  json texts = json::array(), pairs = json::array(), v1 = json::array(), v2 = json::array();
  std::vector<std::string> text_list;
  for (int i = 0; i < 3000; ++i) {
    text_list.push_back(random_text(rng));
    texts.push_back(text_list.back());
  }
  std::vector<std::pair<std::string, std::string>> pair_list;
  for (int i = 0; i < 3000; ++i) {
    std::string gold = random_text(rng);
    // Half the predictions are near the gold (a suffix or prefix of it plus noise), half unrelated.
    size_t cut = rng() % (gold.size() + 1);
    while (cut < gold.size() && (static_cast<unsigned char>(gold[cut]) & 0xC0) == 0x80) ++cut;  // code point start
    std::string pred = rng() % 2 ? gold.substr(cut) + random_text(rng) : random_text(rng);
    pair_list.emplace_back(pred, gold);
    pairs.push_back({pred, gold});
  }
  auto random_case = [&](bool v2_case, std::vector<SquadPrediction>& preds, std::vector<SquadReference>& refs) {
    const size_t n = 1 + rng() % 25;
    static const double probs[] = {0.0, 0.1, 0.5, 0.5, 0.9, 1.0, 1.5};
    for (size_t q = 0; q < n; ++q) {
      SquadReference r{"q" + std::to_string(q), {}};
      const size_t answers = v2_case ? rng() % 4 : 1 + rng() % 3;
      for (size_t a = 0; a < answers; ++a) r.answers.push_back(random_text(rng));
      refs.push_back(r);
      if (!v2_case && rng() % 8 == 0) continue;  // v1.1: some questions unanswered
      std::string text = !r.answers.empty() && rng() % 2 ? r.answers[rng() % r.answers.size()] : random_text(rng);
      if (rng() % 5 == 0) text.clear();
      preds.push_back({r.id, text, probs[rng() % 7]});
    }
    if (rng() % 3 == 0) preds.push_back({"extra", random_text(rng), probs[rng() % 7]});  // no such question
    std::shuffle(preds.begin(), preds.end(), rng);  // prediction order decides ties in the sweep
  };
  auto to_json_case = [](const std::vector<SquadPrediction>& preds, const std::vector<SquadReference>& refs) {
    json p = json::array(), r = json::array();
    for (const auto& x : preds)
      p.push_back({{"id", x.id}, {"text", x.text}, {"no_answer_probability", x.no_answer_probability}});
    for (const auto& x : refs) r.push_back({{"id", x.id}, {"answers", x.answers}});
    return json{{"predictions", p}, {"references", r}};
  };
  std::vector<std::pair<std::vector<SquadPrediction>, std::vector<SquadReference>>> v1_cases, v2_cases;
  std::vector<double> thresholds;
  for (int c = 0; c < 300; ++c) {
    std::vector<SquadPrediction> p;
    std::vector<SquadReference> r;
    random_case(false, p, r);
    v1.push_back(to_json_case(p, r));
    v1_cases.emplace_back(std::move(p), std::move(r));
  }
  for (int c = 0; c < 500; ++c) {
    std::vector<SquadPrediction> p;
    std::vector<SquadReference> r;
    random_case(true, p, r);
    json j = to_json_case(p, r);
    thresholds.push_back(c % 3 == 0 ? 0.5 : 1.0);
    j["threshold"] = thresholds.back();
    v2.push_back(j);
    v2_cases.emplace_back(std::move(p), std::move(r));
  }

  accent::testing::TempDir dir("squad");
  write_file_atomic(dir / "in.json", json{{"texts", texts}, {"pairs", pairs}, {"v1", v1}, {"v2", v2}}.dump());
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/squad_oracle.py " +
                          accent::testing::shell_quote(dir / "in.json") + " " +
                          accent::testing::shell_quote(dir / "out.json");
  const accent::testing::CmdResult run = accent::testing::run_command(cmd);
  ASSERT_EQ(run.rc, 0) << cmd << "\n" << run.out;
  const json out = json::parse(read_file(dir / "out.json"));

  for (size_t i = 0; i < text_list.size(); ++i)
    EXPECT_EQ(squad_normalize_answer(text_list[i]), out["normalized"][i].get<std::string>())
        << json(text_list[i]).dump();
  for (size_t i = 0; i < pair_list.size(); ++i) {
    const auto& [pred, gold] = pair_list[i];
    const json& w = out["pairs"][i];
    SCOPED_TRACE(json(pair_list[i]).dump());
    EXPECT_EQ(squad_exact(pred, gold), w[0].get<int>());
    EXPECT_NEAR(squad_v1_f1(pred, gold), w[1].get<double>(), 1e-12);
    EXPECT_NEAR(squad_v2_f1(pred, gold), w[2].get<double>(), 1e-12);
  }
  int64_t questions = 0;
  for (size_t c = 0; c < v1_cases.size(); ++c) {
    SCOPED_TRACE("v1 case " + std::to_string(c) + ": " + v1[c].dump());
    const SquadV1Scores s = squad_v1_scores(v1_cases[c].first, v1_cases[c].second);
    const json& w = out["v1"][c];
    EXPECT_NEAR(s.exact_match, w["exact_match"].get<double>(), 1e-12);
    EXPECT_NEAR(s.f1, w["f1"].get<double>(), 1e-12);
    EXPECT_EQ(s.total, w["total"].get<int64_t>());
    EXPECT_EQ(s.unanswered, w["unanswered"].get<std::vector<std::string>>());
    questions += s.total;
  }
  for (size_t c = 0; c < v2_cases.size(); ++c) {
    SCOPED_TRACE("v2 case " + std::to_string(c) + ": " + v2[c].dump());
    const json got = squad_v2_scores(v2_cases[c].first, v2_cases[c].second, thresholds[c]).to_json();
    const json& w = out["v2"][c];
    ASSERT_EQ(got.size(), w.size()) << got.dump() << "\n" << w.dump();
    for (const auto& [key, value] : w.items()) {
      ASSERT_TRUE(got.contains(key)) << key;
      if (key.find("total") != std::string::npos)
        EXPECT_EQ(got[key].get<int64_t>(), value.get<int64_t>()) << key;
      else
        EXPECT_NEAR(got[key].get<double>(), value.get<double>(), 1e-12) << key;
    }
    questions += got["total"].get<int64_t>();
  }
  std::printf("squad oracle: %zu normalised texts, %zu answer pairs, %zu v1.1 + %zu v2.0 cases (%lld questions)\n",
              text_list.size(), pair_list.size(), v1_cases.size(), v2_cases.size(), static_cast<long long>(questions));
}

// Every code point Python knows (Unicode 14 on Debian 12's Python 3.11), alone and in the contexts that
// decide the lowercase mapping, the final-sigma rule, ASCII punctuation, whitespace and \w: the C++ tables
// (text/unicode lowercase, utf8proc categories) must agree with Python's own str.lower / re / str.split.
TEST(SquadNormalize, MatchesPythonOnEveryCodePoint) {
  accent::testing::TempDir dir("squad_cp");
  write_file_atomic(dir / "in.json", json{{"probe_code_points", true}}.dump());
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/squad_oracle.py " +
                          accent::testing::shell_quote(dir / "in.json") + " " +
                          accent::testing::shell_quote(dir / "out.json");
  const accent::testing::CmdResult run = accent::testing::run_command(cmd);
  ASSERT_EQ(run.rc, 0) << cmd << "\n" << run.out;
  const json probes = json::parse(read_file(dir / "out.json"))["probes"];
  ASSERT_GT(probes.size(), 100000u);
  const std::string sigma = "\xCE\xA3", alpha = "\xCE\x91";
  size_t mismatches = 0;
  for (const json& row : probes) {
    std::string ch;
    text::append_utf8(ch, static_cast<char32_t>(row[0].get<uint32_t>()));
    const std::string got[6] = {squad_normalize_answer(ch),
                                squad_normalize_answer(ch + sigma),
                                squad_normalize_answer(alpha + ch + sigma),
                                squad_normalize_answer(sigma + ch + alpha),
                                squad_normalize_answer("a" + ch),
                                squad_normalize_answer(ch + "the" + ch)};
    for (size_t k = 0; k < 6; ++k)
      if (got[k] != row[k + 1].get<std::string>() && ++mismatches <= 20)
        ADD_FAILURE() << "U+" << std::hex << row[0].get<uint32_t>() << std::dec << " probe " << k << ": got "
                      << json(got[k]).dump() << ", Python " << row[k + 1].dump();
  }
  EXPECT_EQ(mismatches, 0u);
  std::printf("squad code-point probes: %zu code points x 6 contexts compared\n", probes.size());
}
