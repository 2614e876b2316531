// serve/question_answering.h — from start/end logits to answers, two ways Hugging Face does it:
//
// 1. postprocess_qa_predictions: `examples/pytorch/question-answering/utils_qa.py`, the evaluation of run_qa.py
//    over the features of data/qa_features.h.
// 2. The pipeline("question-answering") of transformers (QuestionAnsweringPipeline, fast-tokenizer path, as of
//    v4.54–v4.57): qa_pipeline_preprocess makes the windows of one (question, context), qa_pipeline_postprocess
//    turns the windows' logits into [{score, start, end, answer}].
//
// Number formats follow the Python code: logits are float32 (the model's output), and every quantity numpy
// keeps in a float32 array is rounded to float32 here at the same step; Python floats (double) where the Python
// code has them (pipeline score sums, the 1000000 null-score start).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/qa_features.h"
#include "data/squad_data.h"
#include "text/tokenizer.h"

namespace accent {

// The model's output for one feature / window.
struct QaLogits {
  std::vector<float> start;  // (T,) may be longer than the feature (run_qa.py pads predictions with -100)
  std::vector<float> end;    // (T,)
};

// ---------------------------------------------------------------------------------------------------------------
// utils_qa.py postprocess_qa_predictions
//
// Per example, over each of its features f (in feature order):
//   null score of f = start[0] + end[0] (float32); the example keeps the feature with the smallest (first one
//     on ties) as min_null_prediction, offsets (0, 0);
//   starts = the n_best_size largest start logits, descending (np.argsort(x)[-1:-n-1:-1]; on equal logits the
//     higher index first, which is a stable ascending sort reversed — numpy's own order there is unspecified),
//     ends likewise; for each start, each end (in that order) the span is kept unless
//       start or end >= len(offset_mapping), or either has no offsets (not context),
//       end < start, or end - start + 1 > max_answer_length,
//       token_is_max_context is given and false (or missing) at start;
//     a kept span has offsets (offset_mapping[start].begin, offset_mapping[end].end), score start + end logit.
//   v2: min_null_prediction joins the candidates. Candidates are sorted by score, descending, stable (Python's
//   sorted(reverse=True)), and cut to n_best_size; v2 adds min_null_prediction back at the end when no kept
//   candidate has offsets (0, 0). text = context[begin:end] (code points).
//   When nothing is left, or only one prediction whose text is "", {"empty", 0, 0, score 0} goes first.
//   probability = softmax of the scores (float32; float64 when "empty" was inserted, as numpy promotes then).
//   v1: the prediction is the first text. v2: the best non-null prediction is the first with text != "";
//   score_diff = null_score - its start_logit - its end_logit (float32); the prediction is "" when
//   score_diff > null_score_diff_threshold, else its text.
// An example without features predicts "empty" in v1 and is an error in v2 (utils_qa.py fails there on the
// missing null prediction). Sums of float32 arrays follow numpy's pairwise summation.

struct QaNbestPrediction {
  std::string text;
  int64_t begin = 0, end = 0;  // code points into the context; (0, 0) for the null prediction and "empty"
  float start_logit = 0, end_logit = 0;
  double score = 0;        // start_logit + end_logit in float32 (utils_qa.py pops it from its JSON)
  double probability = 0;  // softmax over the n-best scores
};

struct QaExamplePrediction {
  std::string id;
  std::string prediction_text;              // predictions.json's value
  std::vector<QaNbestPrediction> nbest;     // nbest_predictions.json's list, best first
  std::optional<double> score_diff;         // v2 only: null_odds.json's value
};

// `examples` supply id and context; features[f].example_id names the example (an unknown id is an error);
// logits[f] are feature f's. Predictions come back in example order.
std::vector<QaExamplePrediction> postprocess_qa_predictions(const std::vector<SquadExample>& examples,
                                                            const std::vector<QaValidationFeature>& features,
                                                            const std::vector<QaLogits>& logits,
                                                            const QaDataArguments& args = {});

// ---------------------------------------------------------------------------------------------------------------
// pipeline("question-answering")

struct QaPipelineOptions {
  int64_t top_k = 1;                      // answers returned (fewer when the windows offer fewer)
  bool handle_impossible_answer = false;  // also return the null answer {score, 0, 0, ""}
  int64_t max_answer_len = 15;            // tokens
  bool align_to_words = true;             // widen the span to whole words (Encoding::word_ids)
  std::optional<int64_t> max_seq_len;     // nullopt: min(model_max_length, 384)
  std::optional<int64_t> doc_stride;      // nullopt: min(max_seq_len / 2, 128)
  // Tokenizer padding side == "right": the question goes first. Otherwise (context, question) with only_first
  // truncation — and, as in transformers, p_mask is then 0 everywhere: only the attention mask keeps tokens out,
  // so question and special tokens can be answers.
  bool pad_on_right = true;
};

// The windows of one (question, context): tokenized without padding ("do_not_pad", the pipeline's default).
struct QaPipelineWindows {
  std::vector<Encoding> windows;             // (W,) [encoding] + overflowing, offsets and word ids filled
  std::vector<std::vector<uint8_t>> p_mask;  // (W, T_w) 1 = cannot start or end an answer
};

// QuestionAnsweringPipeline.preprocess (fast tokenizer): p_mask = 1 for tokens outside the context
// (question, special — question first only; 0 everywhere otherwise), then 0 at every cls_token_id.
// Errors: top_k or max_answer_len < 1, doc_stride > max_seq_len, an empty question or context.
QaPipelineWindows qa_pipeline_preprocess(const Tokenizer& tokenizer, const std::string& question,
                                         const std::string& context, const QaPipelineOptions& options = {});

struct QaAnswer {
  double score = 0;   // probability (summed over duplicates, see below)
  int64_t start = 0;  // code points into the context
  int64_t end = 0;
  std::string answer;  // context[start:end]
};

// QuestionAnsweringPipeline.postprocess. Per window w, in order (select_starts_ends + decode_spans):
//   desired token = p_mask 0 and attention 1; other tokens' logits become -10000 (float32);
//   start/end probabilities = softmax of the masked logits over the window (float32);
//   handle_impossible_answer: min_null_score = min(min_null_score (1000000 at first), p_start[0] * p_end[0]);
//   p_start[0] = p_end[0] = 0 (position 0, the CLS of a question-first window);
//   candidates (s, e) score p_start[s] * p_end[e] (float32), kept as is when s <= e <= s + max_answer_len - 1,
//   0 elsewhere; the k = (align_to_words ? 2 * top_k + 10 : top_k) best of all T * T cells, by score
//   descending — equal scores by flat index s * T + e ascending (numpy's argmax picks the first; its
//   argpartition/argsort order among equal scores is unspecified: in practice the 0 cells when a window has
//   fewer than k positive spans) —, then those whose s and e are both desired tokens — or position 0, which
//   numpy's np.isin(starts, undesired_tokens.nonzero()) on the (1, T) mask lets through whenever any token is
//   desired (the row indices of nonzero() are 0s);
//   each (s, e) becomes [start, end) in code points: align_to_words -> from the first character of s's word to
//   the last character of e's word (the word's tokens in the context sequence: tokenizers' word_to_chars),
//   falling back to the tokens' own offsets when s or e has no word (CLS) or the word is not found; without
//   align_to_words the tokens' offsets;
//   the answer text context[start:end] is merged, case-insensitively (lowercased per code point; Python's
//   final-sigma rule is not applied), into an earlier answer with the same text by adding the score (start/end
//   stay the earlier one's); otherwise appended.
// handle_impossible_answer appends {min_null_score, 0, 0, ""}. The answers are sorted by score, descending,
// stable, and cut to top_k. (transformers returns the dict itself when one answer is left; this is a list.)
// Errors: a window count or length that does not match `windows`, non-finite logits.
std::vector<QaAnswer> qa_pipeline_postprocess(const std::string& context, const QaPipelineWindows& windows,
                                              const std::vector<QaLogits>& logits,
                                              const QaPipelineOptions& options = {});

// What the pipeline returns, as JSON: the answer object {"score", "start", "end", "answer"} itself when there is
// exactly one, else the list of them (transformers' `if len(answers) == 1: return answers[0]`).
nlohmann::json qa_answers_to_json(const std::vector<QaAnswer>& answers);

}  // namespace accent
