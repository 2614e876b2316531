// data/ner_features.h — token-classification features: tagged sentences to model inputs with one label per token,
// as Hugging Face's `examples/pytorch/token-classification/run_ner.py` builds them (tokenize_and_align_labels).
//
// Each sentence's words are encoded as pre-split input (tokenizer(words, is_split_into_words=True,
// truncation=True, max_length=max_seq_length, padding="max_length" if pad_to_max_length else False)), then the
// labels follow word_ids, token by token, with `previous` the word id of the token before (None at the start):
//   word id None (special tokens, padding)  -> -100 (ignored by the loss);
//   word id != previous (a word's first token) -> label_to_id[tag of the word];
//   otherwise (a later sub-token of the word)  -> label_all_tokens ? b_to_i_label[label_to_id[tag]] : -100.
// label_to_id numbers the label list in order (run_ner.py's {l: i for i, l in enumerate(label_list)} when the tags
// are not a ClassLabel), and b_to_i_label sends a "B-…" label to the id of label.replace("B-", "I-") when that
// label is in the list (Python's replace: every "B-" in the label), every other label to itself.
// A word that truncation cuts off simply has no token; its label is dropped with it.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "data/ner_data.h"
#include "text/tokenizer.h"

namespace accent {

// The label id the loss ignores (PyTorch CrossEntropyLoss ignore_index, run_ner.py's -100).
inline constexpr int32_t kIgnoredLabelId = -100;

// run_ner.py's data arguments that shape the features.
struct NerFeatureOptions {
  // Truncate to this many tokens (special tokens included); nullopt = the tokenizer's model_max_length (run_ner.py
  // passes max_length=None with truncation=True; no truncation when the tokenizer has no model_max_length).
  std::optional<int64_t> max_seq_length;
  bool pad_to_max_length = false;  // pad every feature to max_seq_length (else no padding: a collator pads)
  bool label_all_tokens = false;   // label every sub-token (B- turned to I- after the first) instead of -100
};

// One sentence as model inputs: the encoding (ids, type ids, attention mask, word_ids, ...) and its labels.
struct NerFeature {
  Encoding encoding;
  std::vector<int32_t> labels;  // (T,) one per token of `encoding`; kIgnoredLabelId where the loss ignores it
};

// run_ner.py's b_to_i_label: per label id, the id a later sub-token of a word tagged with it gets.
std::vector<int32_t> b_to_i_label_ids(const std::vector<std::string>& label_list);

// The features of `sentences` with labels numbered by `label_list` (e.g. label_list(train sentences), sorted).
// A tag missing from label_list is an error naming the sentence's line and the tag; byte-level tokenizers need
// add_prefix_space (Tokenizer::encode_words says so).
std::vector<NerFeature> tokenize_and_align_labels(const Tokenizer& tok, const std::vector<TaggedSentence>& sentences,
                                                  const std::vector<std::string>& label_list,
                                                  const NerFeatureOptions& options);

// One sentence (the same rules).
NerFeature tokenize_and_align_labels(const Tokenizer& tok, const TaggedSentence& sentence,
                                     const std::vector<std::string>& label_list, const NerFeatureOptions& options);

}  // namespace accent
