// train/batch_source.h — where the trainer gets its batches from.
//
// The trainer asks for batch i of epoch e; the source decides order and padding. A source must be a pure
// function of (epoch, i): the same epoch gives the same batches in the same order, whatever happened before.
// That is what makes resuming mid-epoch reproduce an uninterrupted run (shuffle with a generator seeded by
// seed and epoch, e.g. Rng(seed).fork(epoch), never with a stream carried across epochs).
#pragma once
#include <cstddef>
#include <cstdint>

#include "data/batch.h"

namespace accent {

class BatchSource {
 public:
  virtual ~BatchSource() = default;
  // Number of batches in `epoch` (the trainer sizes the schedule from epoch 0, like len(train_dataloader)).
  virtual size_t num_batches(int64_t epoch) const = 0;
  // Batch `index` (< num_batches(epoch)) of `epoch`.
  virtual Batch batch(int64_t epoch, size_t index) = 0;
  // Number of examples per epoch (for throughput numbers); 0 when unknown.
  virtual size_t num_examples() const { return 0; }
  // A hash of the data the source serves (examples, labels, batching options), compared across data-parallel ranks
  // at start-up; 0 when the source cannot say.
  virtual uint64_t fingerprint() const { return 0; }
};

}  // namespace accent
