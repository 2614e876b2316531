// nn/token_packing.h — the real tokens of a padded batch, packed, so that the row-wise layers do no work on
// padding (unpadded execution).
//
//   row_index[i] = b·T + t of the i-th token with attention_mask[b, t] = 1, in batch order   (N of them)
//   packed (N, C)  ⇄  padded (B·T, C): gather_token_rows / scatter_token_rows (pad rows = 0)
//
// Embedding output is packed once, every projection, the FFN, the LayerNorms and the residual dropouts then run on
// N rows instead of B·T; attention scatters the packed Q/K/V into the padded heads layout (pad rows zero, and the
// key mask gives them probability exactly 0) and gathers the context back, so each real token's result is the
// padded path's. The head reads the last hidden state unpacked. With dynamic padding SST-2 batches hold 13.25 real
// tokens per example of 17.15 padded ones.
//
// Dropout on packed rows (Dropout::draw with a packing) reserves the padded tensor's counter range and maps every
// packed row to its padded row (ops/dropout.h DropoutDraw::row_map): a real token gets the very mask bits of the
// padded path, the counters advance as there, and data-parallel ranks stay in step whatever their padding.
#pragma once
#include <cstdint>
#include <vector>

#include "nn/scratch.h"
#include "ops/backend.h"

namespace accent {

struct TokenPacking {
  int64_t B = 0, T = 0;                // the padded batch
  int64_t rows = 0;                    // N real tokens
  const int32_t* row_index = nullptr;  // (N) padded row of each, in the ops' memory
  int64_t padded_rows() const { return B * T; }
};

// The one row per sequence a sequence-classification head reads, position head_b of sequence b: the last layer
// needs keys and values of every token but queries, attention output, output projection, FFN and LayerNorms of
// these B rows only (models/bert_encoder.h). Dropout over them draws the full range and maps each row to its own
// (as for packed rows), so the masks are the full layer's.
struct HeadRows {
  TokenPacking tokens;                     // {B, T, B rows, b·T + head_b}: their padded rows
  const int32_t* layer_rows = nullptr;     // (B) each one's row among the layer's rows: its packed position, or b·T + head_b
  TokenPacking probs;                      // {B·NH, T, B·NH rows, (b·NH + h)·T + head_b}: their attention-probability
                                           // rows among the full (B·NH·T, T) ones
};

// Rows a row-wise layer runs on: N with a packing, B·T without.
inline int64_t active_rows(const TokenPacking* packing, int64_t B, int64_t T) {
  return packing ? packing->rows : B * T;
}

class TokenPacker {
 public:
  // The packing of `attention_mask` (B, T) host, 1 = real token — or null (run padded) when no token is padding,
  // or when a row the head reads, head_rows[b] (a position in sequence b), is padding: its padded-path value would
  // be needed. The packing stays valid until the next call.
  const TokenPacking* pack(const OpContext& ctx, const std::vector<int32_t>& attention_mask, int64_t B, int64_t T,
                           const std::vector<int64_t>& head_rows);
  // The head rows head_rows[b] of the batch last given to pack(), for a model with `heads` attention heads, their
  // layer rows in that packing when it returned one (else padded rows). Valid until the next call of either.
  const HeadRows* head_rows(const OpContext& ctx, const std::vector<int64_t>& head_rows, int64_t heads);

 private:
  std::vector<int32_t> host_;      // the packed tokens' padded rows
  std::vector<int32_t> head_host_; // B layer rows | B padded rows | B·NH probability rows
  ScratchBuffer index_, head_index_;
  TokenPacking packing_;  // row_index null when the last pack() returned null
  HeadRows head_rows_;
};

// packed (N, C) = the real rows of padded (B·T, C); without a packing a copy of all B·T rows.
void pack_rows(const OpContext& ctx, const TokenPacking* packing, const float* padded, float* packed, int64_t B,
               int64_t T, int64_t C);
// padded (B·T, C) = packed rows at their places, zero elsewhere; without a packing a copy.
void unpack_rows(const OpContext& ctx, const TokenPacking* packing, const float* packed, float* padded, int64_t B,
                 int64_t T, int64_t C);

}  // namespace accent
