// nn/bf16_weight_cache.h — a bf16 copy of an fp32 weight, re-made only when the weight changed.
//
// Mixed precision (ops/precision.h) multiplies bf16 weights; the fp32 master weight changes only when something
// writes it (AdamW, loading, LoRA merge, a test). The cache keys the copy by the weight's (data pointer,
// Tensor::version()): any non-const access to the weight's storage stamps a new version (core/tensor.h), so the
// next get() converts again; const reads (forward, backward through std::as_const) keep the copy. Frozen weights
// (LoRA, --freeze-layers) and inference over many batches therefore convert once, trained weights once per
// optimizer step — not once per use.
//
// The copy comes in one of two forms: plain (get(): the weight's own layout, what every product of training reads)
// or packed (packed(): the CPU matmul's blocked layout, ops/packed_weight.h, for forward products that no backward
// follows — inference). The cache holds one form at a time: asking for the other converts again and releases the
// first, so a model evaluated between training steps never holds both copies.
//
// Not thread-safe for concurrent get() on one cache (modules are not re-entrant anyway: they own scratch buffers).
#pragma once
#include <cstdint>

#include "core/tensor.h"
#include "ops/backend.h"
#include "ops/packed_weight.h"

namespace accent {

class Bf16WeightCache {
 public:
  Bf16WeightCache() = default;
  // A copy starts empty: sharing the bf16 storage (Tensor handles share) would let one cache overwrite the other's.
  Bf16WeightCache(const Bf16WeightCache&) {}
  Bf16WeightCache& operator=(const Bf16WeightCache&) {
    clear();
    return *this;
  }

  // The bf16 bits of `weight` (F32, any shape), converted (round to nearest even) when it changed since the last
  // call; a BF16 weight (one held in bf16, nn/linear.h) is its own bits. The pointer stays valid until the next get() with a different weight size.
  // The copy lives in the weight's memory and is converted by ctx's backend (the weight must be in ctx's memory).
  const uint16_t* get(const OpContext& ctx, const Tensor& weight) const;
  const uint16_t* get(const Tensor& weight) const { return get(OpContext{}, weight); }  // host weights
  // The same bits packed for the CPU's forward product (host weights; packed_bf16_weights_available): `weight` is
  // op(B) of y = x·op(B) stored (N, K) when trans_b (a Linear's (out, in)), (K, N) otherwise (GPT-2's Conv1D).
  // Re-made when the weight changed; valid until the next get() or packed() of this cache.
  const PackedWeight& packed(const Tensor& weight, bool trans_b) const;
  // Forgets the copy and releases its memory.
  void clear();

  // For an optimizer that is about to overwrite every element of `weight` in place: where to write bf16 of each new
  // value, in the same pass, or null when this cache holds no plain copy of this weight to refresh (never used in
  // bf16, held packed, another weight, a device weight, or the cache disabled). The copy stays stale until
  // mark_refreshed(weight), which the caller calls once every element is written (not when the update failed).
  uint16_t* copy_to_refresh(const Tensor& weight) const;
  // The copy from copy_to_refresh now holds bf16 of every element of `weight` at its present version.
  void mark_refreshed(const Tensor& weight) const;

  // Conversions made by every cache of the process (tests and benchmarks count re-conversions with it).
  static int64_t total_conversions();
  // Benchmarks only: with false, every get() converts again (the behaviour before the cache), so one binary can
  // measure what the cache saves. Process-wide; default true.
  static void set_enabled(bool enabled);

 private:
  mutable Tensor bf16_;                   // same shape as the weight, BF16 (the plain form; empty when packed)
  mutable PackedWeight packed_;           // the packed form (empty when plain)
  mutable const void* source_ = nullptr;  // the weight's data pointer at the last conversion
  mutable uint64_t version_ = 0;          // and its version then
};

// Whether a forward product of `weight` multiplies the packed form: a forward that no backward follows (nn/scratch.h
// InferenceScratch: inference), under a context that multiplies packed bf16 weights (ops/packed_weight.h), of an
// F32 master weight in host memory. A weight held in bf16 (a frozen LoRA base, nn/linear.h) stays plain: its bits
// are the weight itself, so packing would add a copy instead of replacing one.
bool forward_uses_packed_weight(const OpContext& ctx, const Tensor& weight);

}  // namespace accent
