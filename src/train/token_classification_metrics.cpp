// train/token_classification_metrics.cpp — see token_classification_metrics.h.
#include "train/token_classification_metrics.h"

#include "core/error.h"

namespace accent {

TokenClassificationAccumulator::TokenClassificationAccumulator(std::vector<std::string> id2label)
    : id2label_(std::move(id2label)) {
  ACCENT_CHECK(!id2label_.empty(), "token classification metrics need the label names");
}

void TokenClassificationAccumulator::add(const Tensor& logits, const Batch& batch) {
  if (batch.token_labels.empty()) return;
  const int64_t B = batch.B, T = batch.T, C = static_cast<int64_t>(id2label_.size());
  ACCENT_CHECK(logits.numel() == B * T * C, "token classification metrics: logits have ", logits.numel(),
               " values, expected B×T×C = ", B, "×", T, "×", C);
  const float* z = logits.f32();
  for (int64_t b = 0; b < B; ++b) {
    TagSequence gold, predicted;
    for (int64_t t = 0; t < T; ++t) {
      const int64_t label = batch.token_labels[b * T + t];
      if (label == -100) continue;
      ACCENT_CHECK(label >= 0 && label < C, "token label ", label, " is outside [0, ", C, ")");
      const float* row = z + (b * T + t) * C;
      int64_t best = 0;  // numpy argmax: the first maximum
      for (int64_t c = 1; c < C; ++c)
        if (row[c] > row[best]) best = c;
      gold.push_back(id2label_[static_cast<size_t>(label)]);
      predicted.push_back(id2label_[static_cast<size_t>(best)]);
    }
    if (gold.empty()) continue;
    gold_.push_back(std::move(gold));
    predicted_.push_back(std::move(predicted));
  }
}

nlohmann::json TokenClassificationAccumulator::summary() const {
  if (gold_.empty()) return nlohmann::json::object();
  const SeqevalMetrics m = seqeval_metrics(gold_, predicted_);
  return {{"precision", m.overall_precision}, {"recall", m.overall_recall}, {"f1", m.overall_f1},
          {"accuracy", m.overall_accuracy}};
}

nlohmann::json TokenClassificationAccumulator::report() const {
  if (gold_.empty()) return nlohmann::json::object();
  return seqeval_metrics(gold_, predicted_).to_json();
}

}  // namespace accent
