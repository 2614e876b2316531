#include "models/classification_loss.h"

#include <vector>

#include "core/error.h"
#include "ops/loss.h"
#include "ops/memory.h"

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

bool batch_has_labels(const Batch& batch) {
  return !batch.class_labels.empty() || !batch.float_labels.empty() || !batch.token_labels.empty() ||
         !batch.start_positions.empty();
}

ProblemType resolve_problem_type(const std::optional<std::string>& configured, int64_t num_labels, const Batch& batch) {
  if (configured) return problem_type_from_name(*configured);
  if (num_labels == 1) return ProblemType::Regression;
  if (!batch.class_labels.empty()) return ProblemType::SingleLabel;
  if (!batch.float_labels.empty()) return ProblemType::MultiLabel;
  return ProblemType::SingleLabel;  // no labels: what a classifier with num_labels > 1 does by default
}

namespace {

// The labels where ctx's ops read them: the host vector itself, or a copy in `stage`.
template <typename T>
const T* staged(const OpContext& ctx, const std::vector<T>& host, ScratchBuffer& stage) {
  if (memory_for(ctx).is_host()) return host.data();
  const size_t bytes = host.size() * sizeof(T);
  T* copy = reinterpret_cast<T*>(stage.u8(static_cast<int64_t>(bytes)));
  copy_from_host(ctx, copy, host.data(), bytes);
  return copy;
}

}  // namespace

float classification_loss(const OpContext& ctx, ProblemType type, const float* logits, const Batch& batch, int64_t C,
                          float* dlogits, ScratchBuffer& label_stage) {
  const int64_t B = batch.B;
  switch (type) {
    case ProblemType::SingleLabel:
      ACCENT_CHECK(static_cast<int64_t>(batch.class_labels.size()) == B, "single_label_classification needs ", B,
                   " integer labels (one per row), got ", batch.class_labels.size(),
                   batch.float_labels.empty() ? "" : " (the batch has float labels: multi-label or regression?)");
      return cross_entropy_loss(ctx, logits, staged(ctx, batch.class_labels, label_stage), dlogits, B, C);
    case ProblemType::MultiLabel:
      ACCENT_CHECK(static_cast<int64_t>(batch.float_labels.size()) == B * C, "multi_label_classification needs B×C = ",
                   B, "×", C, " float labels, got ", batch.float_labels.size());
      return bce_with_logits_loss(ctx, logits, staged(ctx, batch.float_labels, label_stage), dlogits, B, C);
    case ProblemType::Regression: {
      if (!batch.float_labels.empty()) {
        ACCENT_CHECK(static_cast<int64_t>(batch.float_labels.size()) == B * C, "regression needs B×C = ", B, "×", C,
                     " float labels, got ", batch.float_labels.size());
        return mse_loss(ctx, logits, staged(ctx, batch.float_labels, label_stage), dlogits, B, C);
      }
      ACCENT_CHECK(static_cast<int64_t>(batch.class_labels.size()) == B * C, "regression needs B×C = ", B, "×", C,
                   " labels, got ", batch.class_labels.size());
      std::vector<float> as_float(batch.class_labels.begin(), batch.class_labels.end());
      return mse_loss(ctx, logits, staged(ctx, as_float, label_stage), dlogits, B, C);
    }
  }
  return 0.0f;
}

}  // namespace accent
