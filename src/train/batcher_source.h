// train/batcher_source.h — BatchSource adapters over the data layer's Batcher (data/batcher.h).
//
// Training: epoch e serves Batcher::train_batches(e) (seeded shuffle, a pure function of seed and epoch, as the
// trainer's resume needs). Evaluation: Batcher::eval_batches() (longest first) for every epoch; eval_rows() maps
// batch rows back to examples for per-example outputs.
#pragma once
#include <cstdint>
#include <vector>

#include "data/batcher.h"
#include "train/batch_source.h"

namespace accent {

class BatcherTrainSource : public BatchSource {
 public:
  // `batcher` (and its examples) must outlive the source.
  explicit BatcherTrainSource(const Batcher& batcher, size_t num_examples);
  size_t num_batches(int64_t epoch) const override;
  Batch batch(int64_t epoch, size_t index) override;
  size_t num_examples() const override { return num_examples_; }
  uint64_t fingerprint() const override;

 private:
  const std::vector<std::vector<int64_t>>& rows_of(int64_t epoch) const;
  const Batcher& batcher_;
  size_t num_examples_;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<std::vector<int64_t>> cached_rows_;  // train_batches(cached_epoch_)
};

class BatcherEvalSource : public BatchSource {
 public:
  explicit BatcherEvalSource(const Batcher& batcher, size_t num_examples);
  size_t num_batches(int64_t) const override { return rows_.size(); }
  Batch batch(int64_t, size_t index) override;
  size_t num_examples() const override { return num_examples_; }
  uint64_t fingerprint() const override;
  // Example index of each row of each batch (for restore_order).
  const std::vector<std::vector<int64_t>>& eval_rows() const { return rows_; }

 private:
  const Batcher& batcher_;
  size_t num_examples_;
  std::vector<std::vector<int64_t>> rows_;
};

}  // namespace accent
