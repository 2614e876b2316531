// train/squad_metrics.h — the official SQuAD evaluation for extractive question answering:
// v1.1 (`evaluate-v1.1.py`, HF evaluate "squad") and v2.0 (`evaluate-v2.0.py`, HF evaluate "squad_v2").
//
// Answer normalisation (both versions), applied to the prediction and to every gold answer, in this order,
// each step with Python 3 str semantics on Unicode text:
//   1. str.lower(): full Unicode lowercase mapping (U+0130 → "i̇"), with the one context rule Python applies:
//      capital sigma becomes final ς when a cased letter precedes it and none follows it (case-ignorable
//      characters such as apostrophes and combining marks skipped on both sides), σ otherwise.
//   2. Remove every character of string.punctuation — the 32 ASCII marks !"#$%&'()*+,-./:;<=>?@[\]^_`{|}~
//      only; "¿", "“" or "—" stay.
//   3. re.sub(r"\b(a|an|the)\b", " ", s): a maximal run of word characters (Python re's Unicode \w: letters,
//      numbers, '_') that is exactly "a", "an" or "the" becomes a space. Combining marks are not word
//      characters, so in "a\u0301" the "a" is still an article.
//   4. " ".join(s.split()): split on Python's Unicode whitespace (str.isspace: ASCII \t\n\v\f\r, \x1c-\x1f,
//      space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F, U+3000) and rejoin.
// Tokens are the pieces of the normalised answer split on spaces.
//
// Per question and gold answer g with prediction p:
//   exact = [normalize(p) == normalize(g)];
//   F1 over tokens: common = Σ_token min(count_p, count_g) (Counter intersection), precision = common/|p|,
//   recall = common/|g|, F1 = 2·P·R/(P + R), 0 when common = 0. v2.0 only: when either side has no tokens,
//   F1 = [both have none].
//   A question scores the maximum over its gold answers. The totals are 100 · Σ score / questions.
// v1.1: a question without a prediction scores 0 and still counts (the script prints "Unanswered question
//   <id> will receive score 0." — here its id is listed in SquadV1Scores::unanswered). A question without gold
//   answers is an error (Python's max() of an empty list fails). Predictions for unknown ids are ignored.
// v2.0: gold answers that normalise to "" are dropped; when none is left the gold is [""] (so an unanswerable
//   question scores 1 for a prediction that normalises to ""). A question "has an answer" when its list of
//   gold answers is non-empty (before normalisation). With no-answer probabilities and a threshold (1.0 by
//   default, HF's): when probability > threshold the prediction counts as "no answer" and the question scores
//   1 if it has no answer, 0 if it has one. exact/f1/total over all questions, HasAns_* and NoAns_* over those
//   subsets (present only when the subset is not empty). best_exact / best_f1: sweep the threshold over the
//   predictions sorted by probability (stable: ties keep prediction order); start from the score of answering
//   nothing (= number of unanswerable questions); each question adds its raw score if it has an answer, else
//   -1 if its raw prediction text is non-empty, else 0; keep the best strictly-better running score and the
//   probability at which it was reached (0.0 if none beats the start); best = 100 · best score / questions.
//   A question without a prediction is an error (the v2.0 script crashes with a KeyError there).
// Duplicate ids (among predictions or among references) are rejected in both versions.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accent {

struct SquadPrediction {
  std::string id;
  std::string text;                    // the predicted answer span ("" = no answer)
  double no_answer_probability = 0.0;  // v2.0 only; HF squad_v2's "no_answer_probability"
};

struct SquadReference {
  std::string id;
  std::vector<std::string> answers;  // gold answer texts; empty = unanswerable (v2.0)
};

// normalize_answer of the official scripts (steps 1-4 above), on UTF-8 text.
std::string squad_normalize_answer(std::string_view text);
// normalize_answer(text).split().
std::vector<std::string> squad_answer_tokens(std::string_view text);

// One prediction against one gold answer.
int squad_exact(std::string_view prediction, std::string_view gold);     // both versions
double squad_v1_f1(std::string_view prediction, std::string_view gold);  // evaluate-v1.1.py f1_score
double squad_v2_f1(std::string_view prediction, std::string_view gold);  // evaluate-v2.0.py compute_f1

struct SquadV1Scores {
  double exact_match = 0, f1 = 0;       // percentages
  int64_t total = 0;                    // questions (references)
  std::vector<std::string> unanswered;  // reference ids without a prediction (scored 0)
  nlohmann::json to_json() const;       // {"exact_match", "f1"} as HF evaluate "squad"
};

// Throws accent::Error for no references, a reference without answers, or a duplicate id.
SquadV1Scores squad_v1_scores(const std::vector<SquadPrediction>& predictions,
                              const std::vector<SquadReference>& references);

struct SquadSubsetScores {
  double exact = 0, f1 = 0;
  int64_t total = 0;
};

struct SquadV2Scores {
  SquadSubsetScores all;
  std::optional<SquadSubsetScores> has_answer;  // HasAns_*: present when some question has an answer
  std::optional<SquadSubsetScores> no_answer;   // NoAns_*: present when some question has none
  double best_exact = 0, best_exact_thresh = 0, best_f1 = 0, best_f1_thresh = 0;
  // {"exact", "f1", "total", "HasAns_exact", "HasAns_f1", "HasAns_total", "NoAns_exact", "NoAns_f1",
  //  "NoAns_total", "best_exact", "best_exact_thresh", "best_f1", "best_f1_thresh"} as HF evaluate "squad_v2".
  nlohmann::json to_json() const;
};

// Throws accent::Error for no references, a reference without a prediction (naming its id), or a duplicate id.
SquadV2Scores squad_v2_scores(const std::vector<SquadPrediction>& predictions,
                              const std::vector<SquadReference>& references, double no_answer_threshold = 1.0);

}  // namespace accent
