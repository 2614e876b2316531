// ops/embedding.h — table lookup and its scatter-add gradient (torch.nn.Embedding).
//
// Contract, ids (rows) indexing table (V, C):
//   forward   y[r, :] (=|+=) table[ids[r], :]            accumulate adds into y (BERT sums three embeddings)
//   backward  dtable[ids[r], :] += dy[r, :] for every r with ids[r] ≠ padding_idx
// nn.Embedding(padding_idx=p) gives row p zero gradient; padding_idx < 0 means none. An id outside [0, V) is an
// error naming the id, its position and V (PyTorch raises "index out of range in self").
#pragma once
#include <cstdint>

#include "ops/backend.h"

namespace accent {

void embedding_forward(const OpContext& ctx, const int32_t* ids, const float* table, float* y, int64_t rows,
                       int64_t V, int64_t C, bool accumulate, const char* table_name = "embedding");
void embedding_backward(const OpContext& ctx, const int32_t* ids, const float* dy, float* dtable, int64_t rows,
                        int64_t V, int64_t C, int64_t padding_idx);

}  // namespace accent
