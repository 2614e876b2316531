// bench/random_batch.h — a synthetic batch for step benchmarks (speed does not depend on the values): B×T random
// ids in [first_id, first_id + 30000), token types 0 for the first half of each row and 1 after, no padding,
// labels alternating 0/1.
#pragma once
#include <cstdint>

#include "core/rng.h"
#include "data/batch.h"

namespace accent::bench {

inline Batch random_batch(int64_t B, int64_t T, uint64_t seed, int32_t first_id) {
  Batch batch;
  batch.B = B, batch.T = T;
  Rng data_rng(seed);
  for (int64_t i = 0; i < B * T; ++i) {
    batch.input_ids.push_back(static_cast<int32_t>(first_id + data_rng.below(30000)));
    batch.token_type_ids.push_back(i % T < T / 2 ? 0 : 1);
    batch.attention_mask.push_back(1);
  }
  for (int64_t b = 0; b < B; ++b) batch.class_labels.push_back(static_cast<int64_t>(b % 2));
  return batch;
}

}  // namespace accent::bench
