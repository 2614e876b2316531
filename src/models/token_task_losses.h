// models/token_task_losses.h — the losses of *ForTokenClassification and *ForQuestionAnswering (transformers):
//
//   token classification   CrossEntropyLoss(logits.view(−1, C), labels.view(−1)): mean over the B·T tokens whose
//                          label (Batch::token_labels) is not −100 (run_ner.py gives −100 to special tokens,
//                          padding and, without label_all_tokens, every sub-token after a word's first)
//   question answering     start/end positions (Batch::start_positions / end_positions, (B)) clamped to [0, T];
//                          T is the ignored index; loss = (CE(start_logits, start) + CE(end_logits, end)) / 2 with
//                          start_logits = logits[:, :, 0], end_logits = logits[:, :, 1] (B, T) rows of T classes
#pragma once
#include "data/batch.h"
#include "nn/scratch.h"
#include "ops/backend.h"

namespace accent {

// logits, dlogits (B, T, C) in ctx's memory; dlogits (when non-null) = d(loss)/d(logits).
float token_classification_loss(const OpContext& ctx, const float* logits, const Batch& batch, int64_t C,
                                float* dlogits, ScratchBuffer& label_stage);
// logits, dlogits (B, T, 2) in ctx's memory. The loss is computed on the host (2·B·T values).
float question_answering_loss(const OpContext& ctx, const float* logits, const Batch& batch, float* dlogits);

}  // namespace accent
