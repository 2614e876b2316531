// models/classification_loss.h — the loss of *ForSequenceClassification by problem_type (spec checkpoints.md §3).
//
// problem_type null is inferred as transformers does on the first forward with labels: num_labels == 1 →
// regression; integer labels (Batch::class_labels) → single-label; float labels → multi-label.
//   regression       MSE mean over B·C (num_labels == 1: logits and labels squeezed to (B)); class labels are
//                    accepted as floats
//   single_label     cross-entropy over (B, C), mean over labels ≠ −100
//   multi_label      BCE-with-logits, mean over B·C, float labels (B, C)
#pragma once
#include <optional>
#include <string>

#include "data/batch.h"
#include "nn/scratch.h"
#include "ops/backend.h"

namespace accent {

// "regression" / "single_label_classification" / "multi_label_classification".
const char* problem_type_name(ProblemType type);
// Parses the config spelling; throws naming the value otherwise.
ProblemType problem_type_from_name(const std::string& name);
// True when the batch carries labels for a loss.
bool batch_has_labels(const Batch& batch);
// The configured type, or the one transformers would infer for this batch.
ProblemType resolve_problem_type(const std::optional<std::string>& configured, int64_t num_labels, const Batch& batch);
// Mean loss of logits (B, C) against the batch labels; dlogits (B, C) = d(loss)/d(logits) when non-null.
// logits and dlogits live in ctx's memory; the labels are copied into `label_stage` when that is not the host.
float classification_loss(const OpContext& ctx, ProblemType type, const float* logits, const Batch& batch, int64_t C,
                          float* dlogits, ScratchBuffer& label_stage);

}  // namespace accent
