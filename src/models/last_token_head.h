// models/last_token_head.h — what the decoder families (GPT-2, Qwen2, Llama) put after their last layer: the final
// norm and the task head, forward and backward.
//
//   sequence classification      logits[b] = norm(X[b, last_b])·Wscoreᵀ     score (C, H), no bias; the norm and
//                                                                          score are per row, so only the B pooled
//                                                                          rows are computed
//   token classification / QA    logits[b, t] = head(norm(X[b, t]))          models/per_token_head.h
//   last_b = the rightmost position whose id ≠ pad (argmax of t·[id ≠ pad], 0 when the row is all pad), as
//   transformers ≥ 4.48's *ForSequenceClassification of these families computes it.
// Norm: nn/layer_norm.h LayerNorm (GPT-2's ln_f) or nn/rms_norm.h RmsNorm (Qwen2/Llama's model.norm); both take
// forward(ctx, x, y, rows) and backward(ctx, x, dy, dx, rows).
#pragma once
#include <cstdint>
#include <vector>

#include "data/batch.h"
#include "models/model_task.h"
#include "models/per_token_head.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "ops/embedding.h"
#include "ops/memory.h"

namespace accent {

// last_b for every row of `batch` (B values).
std::vector<int64_t> last_non_pad_positions(const Batch& batch, int64_t pad);

template <typename Norm>
class LastTokenHead {
 public:
  LastTokenHead() = default;
  // The head of `task`: `score` for sequence classification, `token` otherwise (the other one default-built).
  LastTokenHead(ModelTask task, Norm norm, Linear score, PerTokenHead token)
      : norm(std::move(norm)), score(std::move(score)), token(std::move(token)), task_(task) {}

  Norm norm;
  Linear score;
  PerTokenHead token;

  // last_hidden (B·T, H): the last layer's padded rows; pooled_rows (B) b·T + last_b in the ops' memory (sequence
  // classification) → logits.
  void forward(const OpContext& ctx, const float* last_hidden, const int32_t* pooled_rows, float* logits, int64_t B,
               int64_t T, int64_t H, Rng* rng) {
    if (task_ != ModelTask::SequenceClassification) {
      float* normed = normed_.f32(B * T * H);
      norm.forward(ctx, last_hidden, normed, B * T);
      token.forward(ctx, normed, logits, B, T, rng);
      return;
    }
    // pooled[b] = last_hidden[b·T + last_b]: a row lookup, done by the embedding op over the (B·T, H) rows.
    embedding_forward(ctx, pooled_rows, last_hidden, pooled_input(B, H), B, B * T, H, /*accumulate=*/false,
                      "last hidden state");
    forward_pooled(ctx, logits, B, H);
  }
  // Sequence classification from rows already in pooled_input(B, H) (a last layer that computed only them).
  float* pooled_input(int64_t B, int64_t H) { return pooled_.f32(B * H); }
  void forward_pooled(const OpContext& ctx, float* logits, int64_t B, int64_t H) {
    float* normed = normed_.f32(B * H);
    norm.forward(ctx, pooled_.f32(B * H), normed, B);
    score.forward(ctx, normed, logits, B);
  }

  // dlogits → dlast (B·T, H) padded rows, overwritten (sequence classification: zero but the pooled rows);
  // parameter gradients accumulate. last_hidden and pooled_rows: the forward's.
  void backward(const OpContext& ctx, const float* last_hidden, const int32_t* pooled_rows, const float* dlogits,
                float* dlast, int64_t B, int64_t T, int64_t H) {
    if (task_ != ModelTask::SequenceClassification) {
      float* dnormed = pooled_.f32(B * T * H);
      token.backward(ctx, dlogits, dnormed, B, T);
      norm.backward(ctx, last_hidden, dnormed, dlast, B * T);
      return;
    }
    const float* dpooled = backward_pooled(ctx, dlogits, B, H);
    fill_zero(ctx, dlast, static_cast<size_t>(B * T * H) * sizeof(float));
    embedding_backward(ctx, pooled_rows, dpooled, dlast, B, B * T, H, /*padding_idx=*/-1);  // scatter (+=)
  }
  // Sequence classification: dlogits → d(pooled rows) (B, H), valid until the next call.
  float* backward_pooled(const OpContext& ctx, const float* dlogits, int64_t B, int64_t H) {
    float* normed = normed_.f32(B * H);
    score.backward(ctx, normed, dlogits, /*dx=*/normed, B);
    norm.backward(ctx, pooled_.f32(B * H), normed, /*dx=*/normed, B);
    return normed;
  }

  // The norm, then the task's head (HF state-dict order).
  void collect(ParameterList& out) {
    norm.collect(out);
    if (task_ == ModelTask::SequenceClassification) score.collect(out);
    else token.collect(out);
  }
  // The task's output Linear (LoRA's modules_to_save).
  Linear& head_linear() { return task_ == ModelTask::SequenceClassification ? score : token.out; }

 private:
  ModelTask task_ = ModelTask::SequenceClassification;
  ScratchBuffer pooled_;  // (B, H) X[b, last_b]; (B·T, H) d(normed) for the per-token heads
  ScratchBuffer normed_;  // (B, H) norm(pooled), then its gradient; (B·T, H) norm(X) for the per-token heads
};

}  // namespace accent
