// train/token_classification_metrics.h — evaluation of a token classifier as run_ner.py's compute_metrics does it:
// per sentence, the tokens whose label is not −100 (each word's first sub-token, unless label_all_tokens) give
// the gold tags and the predicted tags (argmax of the logits), by label name; then seqeval (train/seqeval.h):
//   summary  {precision, recall, f1, accuracy}  = overall_precision, overall_recall, overall_f1, overall_accuracy
//   report   seqeval's whole dict (per entity type precision/recall/f1/number, and the overall numbers)
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "data/batch.h"
#include "train/seqeval.h"

namespace accent {

class TokenClassificationAccumulator {
 public:
  // id2label: label names in id order (the model's config).
  explicit TokenClassificationAccumulator(std::vector<std::string> id2label);
  // logits (B, T, C); labels from batch.token_labels (B, T). Rows without any label are skipped.
  void add(const Tensor& logits, const Batch& batch);
  int64_t num_sentences() const { return static_cast<int64_t>(gold_.size()); }
  // {precision, recall, f1, accuracy}; empty when no labelled token was seen.
  nlohmann::json summary() const;
  // seqeval's dict; empty when no labelled token was seen.
  nlohmann::json report() const;
  const std::vector<TagSequence>& gold() const { return gold_; }
  const std::vector<TagSequence>& predicted() const { return predicted_; }

 private:
  std::vector<std::string> id2label_;
  std::vector<TagSequence> gold_, predicted_;
};

}  // namespace accent
