// data/batcher.h — turns tokenized examples into padded model batches (data/batch.h), in training or eval order.
//
// Training order for epoch e is a pure function of (seed, e) and the lengths: a Fisher–Yates shuffle drawn from
// accent::Rng(seed).fork(e), so a run resumed at epoch e (and batch k) sees exactly the batches it would have seen.
// (HF's RandomSampler draws from torch's generator; the order differs from HF, the statistics do not.)
// With group_by_length the shuffled order is regrouped as transformers' LengthGroupedSampler
// (trainer_pt_utils.get_length_grouped_indices) does: megabatches of mega_batch_mult * batch_size consecutive
// shuffled rows, each sorted by length descending (stable, like Python's sorted(reverse=True)), then the row with
// the largest length overall is swapped into position 0 so the first batch is the longest (an OOM shows at once).
// mega_batch_mult defaults to HF's min(n / (4 * batch_size), 50), at least 1.
//
// Evaluation order: rows sorted by length descending (stable), cut into batches — little padding, and the largest
// batch first. Output row b of batch k belongs to example batches[k][b]; restore_order() puts per-example outputs
// back into the file order.
//
// Padding (collate): T = the longest example in the batch (HF padding="longest"), or max(pad_to_length, longest)
// when pad_to_length > 0 (HF "max_length"; padding never cuts); then rounded up to pad_to_multiple_of. Right
// padding with pad_id / pad_type_id; attention_mask 1 for real tokens, 0 for padding.
#pragma once
#include <cstdint>
#include <vector>

#include "core/error.h"
#include "data/batch.h"

namespace accent {

struct EncodedExample {
  std::vector<int32_t> input_ids;       // (L) including special tokens
  std::vector<int32_t> token_type_ids;  // (L), or empty when the model has no token types
  int64_t class_label = -100;           // single-label target; -100 = none (ignored by the loss)
  std::vector<float> float_labels;      // (C): multi-label 0/1 or regression targets; empty = none
  std::vector<int64_t> token_labels;    // (L) token classification, -100 = ignored; padded with -100
                                        // (DataCollatorForTokenClassification's label_pad_token_id); empty = none
  int64_t start_position = -1, end_position = -1;  // question answering: answer tokens (or CLS); -1 = none
  int64_t length() const { return static_cast<int64_t>(input_ids.size()); }
};

struct BatcherOptions {
  int64_t batch_size = 8;
  int32_t pad_id = 0;
  int32_t pad_type_id = 0;
  int64_t pad_to_multiple_of = 0;  // 0 = off
  int64_t pad_to_length = 0;       // 0 = dynamic padding; > 0 = pad every batch to at least this length
  bool group_by_length = false;
  int64_t mega_batch_mult = 0;     // 0 = HF default
  bool drop_last = false;          // drop a final partial training batch (HF dataloader_drop_last)
  uint64_t seed = 42;
};

// HF get_length_grouped_indices with the random permutation given (the caller draws it).
std::vector<int64_t> length_grouped_order(const std::vector<int64_t>& lengths, const std::vector<int64_t>& permutation,
                                          int64_t batch_size, int64_t mega_batch_mult = 0);

class Batcher {
 public:
  // `examples` must outlive the batcher.
  Batcher(const std::vector<EncodedExample>& examples, BatcherOptions options);

  // Rows of each training batch of epoch `epoch`, in order.
  std::vector<std::vector<int64_t>> train_batches(int64_t epoch) const;
  int64_t num_train_batches() const;
  // Rows of each evaluation batch (longest first).
  std::vector<std::vector<int64_t>> eval_batches() const;
  // The padded tensors for these rows.
  Batch collate(const std::vector<int64_t>& rows) const;
  // The same, padded to at least `min_length` (before pad_to_multiple_of): data-parallel ranks pad their shard of
  // a step to the longest example of the whole step, so every rank's tensors are slices of one process's batch.
  Batch collate(const std::vector<int64_t>& rows, int64_t min_length) const;
  // The longest example among these rows.
  int64_t longest(const std::vector<int64_t>& rows) const;

  const BatcherOptions& options() const { return options_; }
  const std::vector<EncodedExample>& examples() const { return examples_; }
  // FNV-1a over the examples' ids, token types and labels and the batching options: data-parallel ranks compare
  // it at start-up to catch ranks that read different data.
  uint64_t fingerprint() const;

 private:
  const std::vector<EncodedExample>& examples_;
  BatcherOptions options_;
};

// Puts outputs produced in batch order (concatenated over `batches`, one per row) back into example order.
template <typename T>
std::vector<T> restore_order(const std::vector<std::vector<int64_t>>& batches, const std::vector<T>& outputs) {
  size_t total = 0;
  for (const auto& b : batches) total += b.size();
  ACCENT_CHECK(outputs.size() == total, "restore_order: ", outputs.size(), " outputs for ", total, " batched rows");
  std::vector<T> out(total);
  size_t k = 0;
  for (const auto& b : batches)
    for (int64_t row : b) out.at(static_cast<size_t>(row)) = outputs[k++];
  return out;
}

}  // namespace accent
