#include "models/classification_loss.h"

#include <vector>

#include "core/error.h"
#include "ops/loss.h"

namespace accent {

const char* problem_type_name(ProblemType type) {
  switch (type) {
    case ProblemType::Regression: return "regression";
    case ProblemType::SingleLabel: return "single_label_classification";
    case ProblemType::MultiLabel: return "multi_label_classification";
  }
  return "?";
}

ProblemType problem_type_from_name(const std::string& name) {
  if (name == "regression") return ProblemType::Regression;
  if (name == "single_label_classification") return ProblemType::SingleLabel;
  if (name == "multi_label_classification") return ProblemType::MultiLabel;
  fail("problem_type \"", name,
       "\" is not one of \"regression\", \"single_label_classification\", \"multi_label_classification\"");
}

bool batch_has_labels(const Batch& batch) { return !batch.class_labels.empty() || !batch.float_labels.empty(); }

ProblemType resolve_problem_type(const std::optional<std::string>& configured, int64_t num_labels, const Batch& batch) {
  if (configured) return problem_type_from_name(*configured);
  if (num_labels == 1) return ProblemType::Regression;
  if (!batch.class_labels.empty()) return ProblemType::SingleLabel;
  if (!batch.float_labels.empty()) return ProblemType::MultiLabel;
  return ProblemType::SingleLabel;  // no labels: what a classifier with num_labels > 1 does by default
}

float classification_loss(const OpContext& ctx, ProblemType type, const float* logits, const Batch& batch, int64_t C,
                          float* dlogits) {
  const int64_t B = batch.B;
  switch (type) {
    case ProblemType::SingleLabel:
      ACCENT_CHECK(static_cast<int64_t>(batch.class_labels.size()) == B, "single_label_classification needs ", B,
                   " integer labels (one per row), got ", batch.class_labels.size(),
                   batch.float_labels.empty() ? "" : " (the batch has float labels: multi-label or regression?)");
      return cross_entropy_loss(ctx, logits, batch.class_labels.data(), dlogits, B, C);
    case ProblemType::MultiLabel:
      ACCENT_CHECK(static_cast<int64_t>(batch.float_labels.size()) == B * C, "multi_label_classification needs B×C = ",
                   B, "×", C, " float labels, got ", batch.float_labels.size());
      return bce_with_logits_loss(ctx, logits, batch.float_labels.data(), dlogits, B, C);
    case ProblemType::Regression: {
      if (!batch.float_labels.empty()) {
        ACCENT_CHECK(static_cast<int64_t>(batch.float_labels.size()) == B * C, "regression needs B×C = ", B, "×", C,
                     " float labels, got ", batch.float_labels.size());
        return mse_loss(ctx, logits, batch.float_labels.data(), dlogits, B, C);
      }
      ACCENT_CHECK(static_cast<int64_t>(batch.class_labels.size()) == B * C, "regression needs B×C = ", B, "×", C,
                   " labels, got ", batch.class_labels.size());
      std::vector<float> as_float(batch.class_labels.begin(), batch.class_labels.end());
      return mse_loss(ctx, logits, as_float.data(), dlogits, B, C);
    }
  }
  return 0.0f;
}

}  // namespace accent
