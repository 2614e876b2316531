// train/sharded_train_source.h — one data-parallel rank's share of each epoch's training batches.
//
// Like Hugging Face's Trainer under torchrun (accelerate's BatchSamplerShard with even_batches, its default):
// every rank draws the same seeded shuffle (data/batcher.h) and cuts it into per-device batches of b examples;
// the batches go round-robin, rank r taking batches r, r+W, r+2W, …, so optimizer step k (without accumulation)
// trains on batches kW … kW+W−1: exactly the examples of one process's batch k of size W·b. When the epoch does
// not fill a whole number of such groups, the example stream is extended from its own beginning (HF: "completed
// with the first samples") until it does, so every rank gets the same number of full batches; with drop_last the
// incomplete group is dropped instead. The schedule counts per-rank batches (HF's len(train_dataloader) per process).
//
// Padding: every rank pads its batch to the longest example of the whole step (the W batches of the group), not
// only of its own share. The cost is a little padding; the gain is that each rank's tensors are exactly rows
// r·b … (r+1)·b−1 of the tensors one process would build for the W·b batch, so with the sharded dropout stream
// (core/rng.h) W ranks × b reproduce 1 process × W·b, dropout included.
#pragma once
#include <cstdint>
#include <vector>

#include "data/batcher.h"
#include "train/batch_source.h"

namespace accent {

class ShardedTrainSource : public BatchSource {
 public:
  // `batcher` (per-device batch size) must outlive the source. rank in [0, world_size).
  ShardedTrainSource(const Batcher& batcher, int rank, int world_size);
  size_t num_batches(int64_t epoch) const override;
  Batch batch(int64_t epoch, size_t index) override;
  size_t num_examples() const override { return batcher_.examples().size(); }
  uint64_t fingerprint() const override;

  // Rows of every per-device batch of `epoch` after extension (all ranks'), in round-robin order: rank r's batch i
  // is element i·W + r.
  std::vector<std::vector<int64_t>> global_batches(int64_t epoch) const;

 private:
  const std::vector<std::vector<int64_t>>& rows_of(int64_t epoch) const;
  const Batcher& batcher_;
  int rank_, world_size_;
  mutable int64_t cached_epoch_ = -1;
  mutable std::vector<std::vector<int64_t>> cached_rows_;  // global_batches(cached_epoch_)
};

}  // namespace accent
