#include "train/batcher_source.h"

#include "core/error.h"

namespace accent {

BatcherTrainSource::BatcherTrainSource(const Batcher& batcher, size_t num_examples)
    : batcher_(batcher), num_examples_(num_examples) {}

const std::vector<std::vector<int64_t>>& BatcherTrainSource::rows_of(int64_t epoch) const {
  if (epoch != cached_epoch_) {
    cached_rows_ = batcher_.train_batches(epoch);
    cached_epoch_ = epoch;
  }
  return cached_rows_;
}

size_t BatcherTrainSource::num_batches(int64_t epoch) const { return rows_of(epoch).size(); }

Batch BatcherTrainSource::batch(int64_t epoch, size_t index) {
  const auto& rows = rows_of(epoch);
  ACCENT_CHECK(index < rows.size(), "training batch ", index, " requested but epoch ", epoch, " has ", rows.size());
  return batcher_.collate(rows[index]);
}

BatcherEvalSource::BatcherEvalSource(const Batcher& batcher, size_t num_examples)
    : batcher_(batcher), num_examples_(num_examples), rows_(batcher.eval_batches()) {}

Batch BatcherEvalSource::batch(int64_t, size_t index) {
  ACCENT_CHECK(index < rows_.size(), "evaluation batch ", index, " requested but there are ", rows_.size());
  return batcher_.collate(rows_[index]);
}

uint64_t BatcherTrainSource::fingerprint() const { return batcher_.fingerprint(); }
uint64_t BatcherEvalSource::fingerprint() const { return batcher_.fingerprint(); }

}  // namespace accent
