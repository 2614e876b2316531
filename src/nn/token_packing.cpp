#include "nn/token_packing.h"

#include <algorithm>

#include "core/error.h"
#include "ops/memory.h"
#include "ops/tensor_ops.h"

namespace accent {

const TokenPacking* TokenPacker::pack(const OpContext& ctx, const std::vector<int32_t>& attention_mask, int64_t B,
                                      int64_t T, const std::vector<int64_t>& head_rows) {
  packing_ = TokenPacking{B, T, B * T, nullptr};  // not packed (row_index null) until the end
  if (attention_mask.empty()) return nullptr;  // all tokens real
  ACCENT_CHECK(static_cast<int64_t>(attention_mask.size()) == B * T && static_cast<int64_t>(head_rows.size()) == B,
               "token packing: mask of ", attention_mask.size(), " values and ", head_rows.size(),
               " head rows for a batch of B=", B, " T=", T);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t t = head_rows[static_cast<size_t>(b)];
    if (t < 0 || t >= T || attention_mask[static_cast<size_t>(b * T + t)] == 0) return nullptr;
  }
  host_.clear();
  for (int64_t r = 0; r < B * T; ++r)
    if (attention_mask[static_cast<size_t>(r)] != 0) host_.push_back(static_cast<int32_t>(r));
  if (static_cast<int64_t>(host_.size()) == B * T) return nullptr;  // no padding to skip
  const int64_t n = static_cast<int64_t>(host_.size());
  int32_t* index = reinterpret_cast<int32_t*>(index_.u8(n * static_cast<int64_t>(sizeof(int32_t))));
  copy_from_host(ctx, index, host_.data(), host_.size() * sizeof(int32_t));
  packing_ = TokenPacking{B, T, n, index};
  return &packing_;
}

const HeadRows* TokenPacker::head_rows(const OpContext& ctx, const std::vector<int64_t>& head_rows, int64_t heads) {
  const int64_t B = packing_.B, T = packing_.T;
  ACCENT_CHECK(static_cast<int64_t>(head_rows.size()) == B && heads > 0, "head rows: ", head_rows.size(),
               " positions for a batch of ", B);
  head_host_.assign(static_cast<size_t>(2 * B + B * heads), 0);
  int32_t *layer = head_host_.data(), *padded = layer + B, *probs = padded + B;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t t = head_rows[static_cast<size_t>(b)];
    ACCENT_CHECK(t >= 0 && t < T, "head rows: position ", t, " of sequence ", b, " outside its ", T, " tokens");
    padded[b] = static_cast<int32_t>(b * T + t);
    if (packing_.row_index) {  // packed: its place among the packed rows (host_ is sorted, and holds it: pack() checked it is real)
      layer[b] = static_cast<int32_t>(std::lower_bound(host_.begin(), host_.end(), padded[b]) - host_.begin());
    } else {
      layer[b] = padded[b];
    }
    for (int64_t h = 0; h < heads; ++h) probs[b * heads + h] = static_cast<int32_t>((b * heads + h) * T + t);
  }
  const int64_t bytes = static_cast<int64_t>(head_host_.size() * sizeof(int32_t));
  int32_t* index = reinterpret_cast<int32_t*>(head_index_.u8(bytes));
  copy_from_host(ctx, index, head_host_.data(), static_cast<size_t>(bytes));
  head_rows_.layer_rows = index;
  head_rows_.tokens = TokenPacking{B, T, B, index + B};
  head_rows_.probs = TokenPacking{B * heads, T, B * heads, index + 2 * B};
  return &head_rows_;
}

void pack_rows(const OpContext& ctx, const TokenPacking* packing, const float* padded, float* packed, int64_t B,
               int64_t T, int64_t C) {
  if (!packing) return copy_bytes(ctx, packed, padded, static_cast<size_t>(B * T * C) * sizeof(float));
  gather_token_rows(ctx, padded, packing->row_index, packed, packing->rows, packing->padded_rows(), C);
}

void unpack_rows(const OpContext& ctx, const TokenPacking* packing, const float* packed, float* padded, int64_t B,
                 int64_t T, int64_t C) {
  if (!packing) return copy_bytes(ctx, padded, packed, static_cast<size_t>(B * T * C) * sizeof(float));
  scatter_token_rows(ctx, packed, packing->row_index, padded, packing->rows, packing->padded_rows(), C);
}

}  // namespace accent
