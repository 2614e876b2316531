// nn/scratch.h — grow-only activation buffers.
//
// Modules keep what backward needs in ScratchBuffers sized on first use for a (B, T): a later step whose sizes
// are no larger reuses the memory, so the training step allocates nothing once the largest shape has been seen.
// total_allocations() counts every (re)allocation in the process, so tests can check that claim.
//
// Temporaries that do not outlive one module call (backward products, forward intermediates that backward
// recomputes) do not need a buffer per layer instance: shared_scratch(slot) is one ScratchBuffer per slot and per
// thread, shared by every module on that thread. Each slot belongs to one module class (the enum says which), and
// a module's call never re-enters its own class, so two users of a slot never overlap. Being thread-local, two
// models run on two threads do not share them.
//
// Memory: a buffer lives in the memory of the ScratchPlacement alive on this thread when it is asked for (host
// memory when there is none). A model's forward/backward opens one for the memory its op context runs in
// (ops/memory.h), so every module below it gets buffers its ops can read; a buffer asked for in another memory
// than it holds is reallocated there.
#pragma once
#include <cstdint>

#include "core/tensor.h"

namespace accent {

// While alive, scratch requests on this thread are served from `memory`; nests (the previous one is restored).
class ScratchPlacement {
 public:
  explicit ScratchPlacement(const MemoryResource& memory);
  ~ScratchPlacement();
  ScratchPlacement(const ScratchPlacement&) = delete;
  ScratchPlacement& operator=(const ScratchPlacement&) = delete;
  // The memory scratch is served from now, on this thread.
  static const MemoryResource& current();

 private:
  const MemoryResource* previous_;
};

class ScratchBuffer {
 public:
  // A buffer of at least n elements in ScratchPlacement::current() (contents unspecified after growth or a move
  // to another memory). 64-byte aligned.
  float* f32(int64_t n) { return static_cast<float*>(reserve(n * static_cast<int64_t>(sizeof(float)))); }
  uint8_t* u8(int64_t n) { return static_cast<uint8_t*>(reserve(n)); }
  int64_t capacity_bytes() const { return storage_.numel(); }

  static int64_t total_allocations();

 private:
  void* reserve(int64_t bytes);
  Tensor storage_;  // U8
};

enum class SharedSlot : int {
  AttentionHeadsTemp,  // SelfAttention: (B, T, H) projection / merged-gradient staging
  AttentionContext,    // AttentionCore: (B, NH, T, D) P'·V, then dcontext heads and dQ heads
  AttentionProbsA,     // AttentionCore: (B, NH, T, T) dropped probabilities P' (forward and backward)
  AttentionProbsB,     // AttentionCore: (B, NH, T, T) gradient of the scores
  FeedForwardHidden,   // FeedForward: (rows, I) act(pre), recomputed in backward, then its gradient
  LayerGradient,       // an encoder layer (models/bert_encoder BertLayer): (B, T, H) gradient between its blocks
  PaddedRows,          // SelfAttention, models/gpt2_block: (B·T, H or 3H) packed rows unpacked around attention
                       // (nn/token_packing.h); the two never nest
  Count
};

// This thread's buffer for `slot` in the current placement's memory (one set of slots per memory kind).
ScratchBuffer& shared_scratch(SharedSlot slot);

}  // namespace accent
