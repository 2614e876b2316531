#include "models/deberta_relative_positions.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace accent {

int64_t deberta_log_bucket(int64_t rel, int64_t bucket_size, int64_t max_position) {
  if (bucket_size <= 0 || max_position <= 0) return rel;
  const int64_t mid = bucket_size / 2;
  const int64_t magnitude = std::llabs(rel);
  if (magnitude <= mid) return rel;
  // torch: abs_pos / mid and the log ratio in float32, then ceil, + mid, · sign, .to(long).
  const float ratio = std::log(static_cast<float>(magnitude) / static_cast<float>(mid)) /
                      std::log(static_cast<float>(max_position - 1) / static_cast<float>(mid));
  const float log_pos = std::ceil(ratio * static_cast<float>(mid - 1)) + static_cast<float>(mid);
  return static_cast<int64_t>(rel < 0 ? -log_pos : log_pos);
}

std::vector<int32_t> deberta_relative_index(int64_t T, int64_t att_span, int64_t bucket_size, int64_t max_position) {
  // The index depends on i − j only: one bucket per distance (2T − 1 logs, not T²), then the (T, T) table.
  std::vector<int32_t> by_distance(static_cast<size_t>(std::max<int64_t>(2 * T - 1, 0)));
  for (int64_t d = -(T - 1); d <= T - 1; ++d)
    by_distance[static_cast<size_t>(d + T - 1)] = static_cast<int32_t>(
        std::clamp<int64_t>(deberta_log_bucket(d, bucket_size, max_position) + att_span, 0, 2 * att_span - 1));
  std::vector<int32_t> idx(static_cast<size_t>(T * T));
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) idx[static_cast<size_t>(i * T + j)] = by_distance[static_cast<size_t>(i - j + T - 1)];
  return idx;
}

}  // namespace accent
