// nn/fused_projection.h — several Linear layers that read the same input, multiplied as one (inference).
//
// The query, key and value projections of self-attention all read x (rows, in). In a forward that no backward follows
// they can run as one product with their weights stacked:
//   [q | k | v] (rows, N₁ + N₂ + N₃) = x · [W₁; W₂; W₃]ᵀ + [b₁; b₂; b₃]
// one call with N = 3H instead of three with N = H: one conversion (or quantization) of x, one oneDNN call, and a
// wider product that keeps both cores busy at one sentence's 25 rows. Each output column is the same dot product as
// in its own layer, so the numbers equal the three separate forwards bit for bit (tests/unit/models_packed_weight_test).
//
// Two forms, made on first use and re-made when a part changes (its weight's (data, version), nn/bf16_weight_cache.h):
//   bf16  the stacked weight converted to bf16 and packed (ops/packed_weight.h), when every part's forward would
//         multiply a packed bf16 weight (forward_uses_packed_weight);
//   int8  the parts' int8 weights stacked (their per-channel scales stay per channel), when every part is int8 on
//         the Cpu backend (Linear::takes_quantized_input).
// A part with a LoRA adapter, or parts of different input sizes, are never fused.
#pragma once
#include <cstdint>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "nn/int8_weight.h"
#include "nn/linear.h"
#include "ops/packed_weight.h"

namespace accent {

class FusedProjection {
 public:
  FusedProjection() = default;
  // A copy starts empty (the stacked weight belongs to the parts it was made from).
  FusedProjection(const FusedProjection&) {}
  FusedProjection& operator=(const FusedProjection&) {
    clear();
    return *this;
  }

  // Whether forward() can serve these parts under ctx.
  static bool available(const OpContext& ctx, const std::vector<const Linear*>& parts);
  // x (rows, in) → y (rows, Σ out), the parts' outputs side by side in their order.
  void forward(const OpContext& ctx, const std::vector<const Linear*>& parts, const float* x, float* y,
               int64_t rows) const;
  void clear();

 private:
  enum class Form : uint8_t { None, Bf16, Int8 };
  // Each part's identity when the stacked form was made: its weight's (data, version), or its int8 values'.
  std::vector<std::pair<const void*, uint64_t>> keys(const std::vector<const Linear*>& parts, Form form) const;
  void make(const std::vector<const Linear*>& parts, Form form) const;

  mutable Form form_ = Form::None;
  mutable std::vector<std::pair<const void*, uint64_t>> keys_;
  mutable PackedWeight packed_;  // bf16: (in, Σ out) packed
  mutable Int8Weight int8_;      // int8: (Σ out, in) values, scales
  mutable Tensor bias_;          // (Σ out) F32, or empty when no part has a bias
};

}  // namespace accent
