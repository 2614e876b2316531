// models/token_task_losses.cpp — see token_task_losses.h.
#include "models/token_task_losses.h"

#include <algorithm>
#include <vector>

#include "core/error.h"
#include "ops/loss.h"
#include "ops/memory.h"

namespace accent {

float token_classification_loss(const OpContext& ctx, const float* logits, const Batch& batch, int64_t C,
                                float* dlogits, ScratchBuffer& label_stage) {
  const int64_t rows = batch.B * batch.T;
  ACCENT_CHECK(static_cast<int64_t>(batch.token_labels.size()) == rows, "token classification needs B×T = ", batch.B,
               "×", batch.T, " token labels (−100 where none), got ", batch.token_labels.size());
  const int64_t* labels = batch.token_labels.data();
  if (!memory_for(ctx).is_host()) {
    const size_t bytes = batch.token_labels.size() * sizeof(int64_t);
    int64_t* copy = reinterpret_cast<int64_t*>(label_stage.u8(static_cast<int64_t>(bytes)));
    copy_from_host(ctx, copy, labels, bytes);
    labels = copy;
  }
  return cross_entropy_loss(ctx, logits, labels, dlogits, rows, C);
}

float question_answering_loss(const OpContext& ctx, const float* logits, const Batch& batch, float* dlogits) {
  const int64_t B = batch.B, T = batch.T;
  ACCENT_CHECK(static_cast<int64_t>(batch.start_positions.size()) == B &&
                   static_cast<int64_t>(batch.end_positions.size()) == B,
               "question answering needs one start and one end position per row (", B, "), got ",
               batch.start_positions.size(), " and ", batch.end_positions.size());
  std::vector<float> interleaved(static_cast<size_t>(B * T * 2));
  copy_to_host(ctx, interleaved.data(), logits, interleaved.size() * sizeof(float));
  // start/end logits as two (B, T) matrices; positions clamped to [0, T], T (out of range) = ignored.
  std::vector<float> planes(static_cast<size_t>(2 * B * T)), dplanes(planes.size());
  for (int64_t i = 0; i < B * T; ++i) {
    planes[i] = interleaved[2 * i];
    planes[B * T + i] = interleaved[2 * i + 1];
  }
  auto targets = [&](const std::vector<int64_t>& positions) {
    std::vector<int64_t> t(positions.size());
    for (size_t b = 0; b < positions.size(); ++b) {
      const int64_t clamped = std::clamp<int64_t>(positions[b], 0, T);
      t[b] = clamped == T ? kIgnoreIndex : clamped;
    }
    return t;
  };
  const std::vector<int64_t> start = targets(batch.start_positions), end = targets(batch.end_positions);
  const OpContext host{};  // CPU ops on the host copies
  const bool grad = dlogits != nullptr;
  const float start_loss = cross_entropy_loss(host, planes.data(), start.data(), grad ? dplanes.data() : nullptr, B, T);
  const float end_loss =
      cross_entropy_loss(host, planes.data() + B * T, end.data(), grad ? dplanes.data() + B * T : nullptr, B, T);
  if (grad) {
    for (int64_t i = 0; i < B * T; ++i) {
      interleaved[2 * i] = 0.5f * dplanes[i];
      interleaved[2 * i + 1] = 0.5f * dplanes[B * T + i];
    }
    copy_from_host(ctx, dlogits, interleaved.data(), interleaved.size() * sizeof(float));
  }
  return 0.5f * (start_loss + end_loss);
}

}  // namespace accent
