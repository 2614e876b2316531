// data/qa_features.h — extractive question answering: SQuAD examples to model features, as Hugging Face's
// `examples/pytorch/question-answering/run_qa.py` builds them (prepare_train_features,
// prepare_validation_features).
//
// One example (question, context) becomes one feature per window of its context: the tokenizer encodes
// (question, context) — (context, question) when the tokenizer pads on the left — truncating only the context
// to max_seq_length and returning the cut-off tokens as further windows that overlap by doc_stride tokens
// (transformers' features = [encoding] + encoding.overflowing). `overflow_to_sample_mapping[f]` is the example
// feature f came from.
//
// Training labels (prepare_train_features), per feature, in code points of the context (Python indices):
//   cls_index = first position of cls_token_id in input_ids, else of bos_token_id, else 0;
//   no answer (SQuAD v2 unanswerable)              -> start = end = cls_index;
//   a = first answer: [start_char, end_char = start_char + len(text)) code points;
//   the window's context tokens run from the first to the last token whose sequence id is the context's;
//   answer not fully inside [offsets[first].begin, offsets[last].end]  -> start = end = cls_index;
//   otherwise start = (last token t, scanning forward from `first` while offsets[t].begin <= start_char),
//             end   = (first token t, scanning backward from `last` while offsets[t].end >= end_char).
// The forward scan is run_qa.py's, including its edge case: it does not stop at the end of the context, so
// when the answer starts in the window's last context token the scan walks over [SEP] and padding (offsets
// (0, 0) <= start_char) and `start` lands on the last position of the feature (run_qa.py's comment: "we could
// go after the last offset if the answer is the last word"). accent reproduces it; QaTrainFeature says when.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/squad_data.h"
#include "text/tokenizer.h"

namespace accent {

// run_qa.py's DataTrainingArguments for the question-answering data (defaults as there).
struct QaDataArguments {
  int64_t max_seq_length = 384;  // clipped to the tokenizer's model_max_length, as run_qa.py does
  int64_t doc_stride = 128;      // tokens shared by consecutive windows of one context
  bool pad_to_max_length = true;  // false: no padding here (run_qa.py then pads per batch in the collator)
  // Tokenizer padding side == "right": the question comes first and the context is truncated (only_second);
  // false: (context, question), only_first truncation, padding on the left.
  bool pad_on_right = true;
  // Post-processing (serve/question_answering.h postprocess_qa_predictions, utils_qa.py):
  int64_t n_best_size = 20;          // start and end candidates per feature, and answers kept per example
  int64_t max_answer_length = 30;    // tokens
  bool version_2_with_negative = false;  // SQuAD v2: the null answer competes with the best span
  double null_score_diff_threshold = 0.0;  // predict "" when null score - best span score > this
};

// One training feature (T = its length: max_seq_length when padded).
struct QaTrainFeature {
  std::vector<int32_t> input_ids;       // (T,)
  std::vector<int32_t> token_type_ids;  // (T,) all 0 for tokenizers whose model takes none (RoBERTa)
  std::vector<int32_t> attention_mask;  // (T,)
  // Not in run_qa.py's output (it pops offset_mapping); kept to check labels and for diagnostics.
  std::vector<std::pair<int32_t, int32_t>> offsets;  // (T,) code points into the token's own text, (0,0) special/pad
  std::vector<int32_t> sequence_ids;                  // (T,) 0 first text, 1 second text, -1 special/pad
  int64_t start_position = 0;  // token index of the answer's first token, or cls_index
  int64_t end_position = 0;    // token index of the answer's last token, or cls_index
  int64_t cls_index = 0;
  // The answer lies in this window and start/end point at it (not the CLS fallback of an unanswerable
  // example or an answer outside the window).
  bool answer_in_window = false;
  // run_qa.py's forward-scan edge case (see the file comment): start_position passed the window's context.
  bool start_past_context = false;
};

struct QaTrainFeatures {
  std::vector<QaTrainFeature> features;               // (F,)
  std::vector<int64_t> overflow_to_sample_mapping;    // (F,) index into the examples given
};

// One validation/prediction feature.
struct QaValidationFeature {
  std::vector<int32_t> input_ids;       // (T,)
  std::vector<int32_t> token_type_ids;  // (T,)
  std::vector<int32_t> attention_mask;  // (T,)
  std::vector<int32_t> sequence_ids;    // (T,)
  std::string example_id;               // SquadExample::id of the example it came from
  // (T,) offsets (code points into the context) for context tokens, nullopt for question, special and pad
  // tokens — run_qa.py's offset_mapping with None outside the context.
  std::vector<std::optional<std::pair<int32_t, int32_t>>> offset_mapping;
  // utils_qa.py's optional `token_is_max_context` (the legacy SQuAD features had it; run_qa.py never sets it):
  // when given, a span is kept only when token_is_max_context[start] is true (a missing index counts as false).
  std::optional<std::vector<bool>> token_is_max_context;
};

struct QaValidationFeatures {
  std::vector<QaValidationFeature> features;          // (F,)
  std::vector<int64_t> overflow_to_sample_mapping;    // (F,)
};

// run_qa.py prepare_train_features over `examples` (question lstrip()'d with Python's str.isspace set).
// Errors name the example id: doc_stride not smaller than the room a window leaves for the context (the
// tokenizer's message follows), a window without context tokens, answer texts and starts of different counts.
QaTrainFeatures prepare_train_features(const Tokenizer& tokenizer, const std::vector<SquadExample>& examples,
                                       const QaDataArguments& args = {});

// run_qa.py prepare_validation_features.
QaValidationFeatures prepare_validation_features(const Tokenizer& tokenizer,
                                                 const std::vector<SquadExample>& examples,
                                                 const QaDataArguments& args = {});

// Python's str.lstrip() with no argument: drops leading code points for which str.isspace() is true
// (\t \n \v \f \r, \x1c-\x1f, space, U+0085, U+00A0, U+1680, U+2000-U+200A, U+2028, U+2029, U+202F, U+205F,
// U+3000). `s` is UTF-8.
std::string python_lstrip(const std::string& s);

// Number of code points of the UTF-8 string `s` (Python's len()).
int64_t utf8_code_points(const std::string& s);

// Python's s[begin:end] on code points, for begin/end >= 0: clamped to the string, "" when end <= begin.
std::string utf8_slice(const std::string& s, int64_t begin, int64_t end);

}  // namespace accent
