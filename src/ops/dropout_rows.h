// ops/dropout_rows.h — the per-row dropout loop every CPU kernel that applies a DropoutDraw runs (ops/dropout.cpp,
// and the fused add_layernorm, attention_softmax and embedding_layernorm), so they all draw the same bits the same
// way: row r's counters start at draw.row_counter(r, C), which maps packed rows to their padded rows
// (nn/token_packing.h). Internal to ops/.
#pragma once
#include <cstdint>

#include "ops/dropout.h"

namespace accent::dropout_rows {

// out[c] = x[c]·keep(row r, c)·scale over row r of a (rows, C) tensor; in place allowed.
inline void dropout_row(const float* x, float* out, int64_t C, const DropoutDraw& d, int64_t r) {
  const uint64_t seed = d.seed, base = d.row_counter(r, C);
  const float p = d.p, scale = d.scale();
#pragma omp simd
  for (int64_t c = 0; c < C; ++c) out[c] = dropout_keeps(seed, base + static_cast<uint64_t>(c), p) ? x[c] * scale : 0.0f;
}

}  // namespace accent::dropout_rows
