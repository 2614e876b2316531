#include "models/last_token_head.h"

namespace accent {

std::vector<int64_t> last_non_pad_positions(const Batch& batch, int64_t pad) {
  std::vector<int64_t> last(static_cast<size_t>(batch.B), 0);
  for (int64_t b = 0; b < batch.B; ++b)
    for (int64_t t = 0; t < batch.T; ++t)
      if (batch.input_ids[static_cast<size_t>(b * batch.T + t)] != pad) last[static_cast<size_t>(b)] = t;
  return last;
}

}  // namespace accent
