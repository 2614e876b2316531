#include "train/sharded_train_source.h"

#include <algorithm>

#include "core/error.h"

namespace accent {

ShardedTrainSource::ShardedTrainSource(const Batcher& batcher, int rank, int world_size)
    : batcher_(batcher), rank_(rank), world_size_(world_size) {
  ACCENT_CHECK(world_size >= 1 && rank >= 0 && rank < world_size, "ShardedTrainSource: rank ", rank,
               " outside a world of ", world_size);
}

std::vector<std::vector<int64_t>> ShardedTrainSource::global_batches(int64_t epoch) const {
  std::vector<std::vector<int64_t>> batches = batcher_.train_batches(epoch);
  const size_t W = static_cast<size_t>(world_size_);
  if (batcher_.options().drop_last) {  // whole groups of W full batches only
    batches.resize(batches.size() / W * W);
    ACCENT_CHECK(!batches.empty(), "training data: fewer than ", W, " full batches of ",
                 batcher_.options().batch_size, " for ", W, " data-parallel ranks with drop_last");
    return batches;
  }
  const size_t b = static_cast<size_t>(batcher_.options().batch_size);
  std::vector<int64_t> stream;
  for (const auto& batch : batches) stream.insert(stream.end(), batch.begin(), batch.end());
  ACCENT_CHECK(!stream.empty(), "training data has no examples");
  const size_t group = W * b, original = stream.size();
  for (size_t i = 0; stream.size() % group != 0; ++i) stream.push_back(stream[i % original]);
  std::vector<std::vector<int64_t>> out(stream.size() / b);
  for (size_t k = 0; k < out.size(); ++k) out[k].assign(stream.begin() + k * b, stream.begin() + (k + 1) * b);
  return out;
}

const std::vector<std::vector<int64_t>>& ShardedTrainSource::rows_of(int64_t epoch) const {
  if (epoch != cached_epoch_) {
    cached_rows_ = global_batches(epoch);
    cached_epoch_ = epoch;
  }
  return cached_rows_;
}

size_t ShardedTrainSource::num_batches(int64_t epoch) const {
  return rows_of(epoch).size() / static_cast<size_t>(world_size_);
}

Batch ShardedTrainSource::batch(int64_t epoch, size_t index) {
  const auto& rows = rows_of(epoch);
  const size_t W = static_cast<size_t>(world_size_);
  ACCENT_CHECK(index < rows.size() / W, "training batch ", index, " requested but epoch ", epoch, " has ",
               rows.size() / W, " per rank");
  int64_t step_longest = 0;  // the longest example of the whole step (see the top of the header)
  for (size_t r = 0; r < W; ++r) step_longest = std::max(step_longest, batcher_.longest(rows[index * W + r]));
  return batcher_.collate(rows[index * W + static_cast<size_t>(rank_)], step_longest);
}

uint64_t ShardedTrainSource::fingerprint() const { return batcher_.fingerprint(); }

}  // namespace accent
