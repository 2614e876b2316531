// ops/embedding_layernorm.h — the embedding block of the BERT family in one pass per row (HF BertEmbeddings,
// RobertaEmbeddings, ElectraEmbeddings, DistilBERT's Embeddings):
//
//   sum[r] = Σ_k table_k[ids_k[r]]        up to three lookups in order (word, token type, position)
//   y[r]   = Dropout(LayerNorm(sum[r]))   sum, mean, rstd (rows) saved for backward; the dropout mask comes
//                                         from a DropoutDraw over the flat index and is never stored
// Backward, from dy (dsum overwritten, may alias dy):
//   g    = dy·keep/(1 − p)                (the mask regenerated from the draw)
//   dsum = LayerNorm backward of g        dweight += Σ g·x̂, dbias += Σ g (null: frozen, skipped)
// The scatter-add of dsum into the tables stays ops/embedding.h's embedding_backward (rows collide on ids).
// The cpu forward gathers, sums, normalises and drops out each row while it is in cache, with the row kernel of
// ops/layernorm_rows.h and the mask test of ops/dropout.h, so it equals the unfused sequence (embedding lookups
// with accumulate, layernorm_forward, dropout_forward) bit for bit; ref is literally that sequence.
#pragma once
#include <cstdint>

#include "ops/backend.h"
#include "ops/dropout.h"

namespace accent {

struct EmbeddingLookup {
  const int32_t* ids = nullptr;    // (rows) indices into table
  const float* table = nullptr;    // (V, C)
  int64_t V = 0;
  const char* name = "embedding";  // for the out-of-range error (as ops/embedding.h's)
};

// lookups[0..count) summed in order; y must not alias sum.
void embedding_layernorm_forward(const OpContext& ctx, const EmbeddingLookup* lookups, int count,
                                 const float* weight, const float* bias, const DropoutDraw& draw, float* sum, float* y,
                                 float* mean, float* rstd, int64_t rows, int64_t C, float eps);
void embedding_layernorm_backward(const OpContext& ctx, const float* dy, const float* sum, const float* weight,
                                  const float* mean, const float* rstd, const DropoutDraw& draw, float* dsum,
                                  float* dweight, float* dbias, int64_t rows, int64_t C);

}  // namespace accent
