// models/deberta_relative_positions.h — DeBERTa-v2's relative positions (build_relative_position with
// make_log_bucket_position), computed on the host in float32 as HF's torch code does:
//   rel = i − j;  mid = bucket_size / 2
//   |rel| ≤ mid:  bucket = rel
//   else:         bucket = sign(rel) · (ceil(log(|rel| / mid) / log((max_position − 1) / mid) · (mid − 1)) + mid)
// and the index of the relative embedding row each (query i, key j) reads, for both c2p and p2c:
//   idx[i, j] = clamp(bucket(i − j) + att_span, 0, 2·att_span − 1)
#pragma once
#include <cstdint>
#include <vector>

namespace accent {

// bucket_size ≤ 0 or max_position ≤ 0: no bucketing (rel itself).
int64_t deberta_log_bucket(int64_t rel, int64_t bucket_size, int64_t max_position);
// (T, T) idx, row-major.
std::vector<int32_t> deberta_relative_index(int64_t T, int64_t att_span, int64_t bucket_size, int64_t max_position);

}  // namespace accent
