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

enum class SharedSlot : int;

class ScratchBuffer {
 public:
  ScratchBuffer() = default;
  // A member of a per-layer module (one instance per layer) that only that module's own call reads when no
  // backward follows: while an InferenceScratch is alive on this thread, it hands out this thread's shared buffer
  // for `inference_slot` instead of its own storage, so an L-layer model in inference holds one layer's
  // activations instead of L. Each such slot belongs to one member of one module class.
  explicit ScratchBuffer(SharedSlot inference_slot) : inference_slot_(inference_slot) {}
  // A buffer of at least n elements in ScratchPlacement::current() (contents unspecified after growth or a move
  // to another memory). 64-byte aligned.
  float* f32(int64_t n) { return static_cast<float*>(reserve(n * static_cast<int64_t>(sizeof(float)))); }
  uint8_t* u8(int64_t n) { return static_cast<uint8_t*>(reserve(n)); }
  int64_t capacity_bytes() const { return storage_.numel(); }

  static int64_t total_allocations();

 private:
  void* reserve(int64_t bytes);
  Tensor storage_;  // U8
  SharedSlot inference_slot_{-1};  // -1: always its own storage
};

// While alive on this thread (a forward with no backward after it: TransformerClassifier::forward), per-layer
// ScratchBuffers built with an inference slot share that slot's buffer; nests. Safe because a layer's buffers carry
// nothing from one call to the next without a backward, and a module class's call never re-enters itself.
class InferenceScratch {
 public:
  InferenceScratch();
  ~InferenceScratch();
  InferenceScratch(const InferenceScratch&) = delete;
  InferenceScratch& operator=(const InferenceScratch&) = delete;
  static bool active();

 private:
  bool previous_;
};

enum class SharedSlot : int {
  AttentionHeadsTemp,  // SelfAttention: (B, T, H) projection / merged-gradient staging, or the fused (rows, 3H) q|k|v
  AttentionContext,    // AttentionCore: (B, NH, T, D) P'·V, then dcontext heads and dQ heads
  AttentionProbsA,     // AttentionCore: (B, NH, T, T) dropped probabilities P' (forward and backward)
  AttentionProbsB,     // AttentionCore: (B, NH, T, T) gradient of the scores
  FeedForwardHidden,   // FeedForward: (rows, I) act(pre), recomputed in backward, then its gradient
  LayerGradient,       // an encoder layer (models/bert_encoder BertLayer): (B, T, H) gradient between its blocks
  PaddedRows,          // SelfAttention, GroupedQueryAttention, models/gpt2_block: (B·T, H, 3H or NH·D) packed rows
                       // unpacked around attention (nn/token_packing.h); they never nest
  GqaStage,            // GroupedQueryAttention: (rows, NH·D) one projection / its gradient at a time
  GqaKvHeads,          // GroupedQueryAttention: (B, NKV, T, D) K or V heads before repetition / their summed gradient
  GatedFeedForwardGrad,  // GatedFeedForward: (rows, I) d(gated product), then d(gate)
  DecoderLayerGrad,    // models/decoder_layer, models/modernbert_layer (never nested): (rows, H or 2I) the gradient
                       // between their blocks
  DecoderLayerBranch,  // models/decoder_layer, models/modernbert_layer: (rows, H) a residual branch
  DebertaProjected,    // models/deberta_layer: (rows + R, H) query_proj / key_proj output, then its gradient
  DebertaStackGrad,    // models/deberta_layer: (rows + R, H) gradient of the stacked [x; rel] input
  DebertaC2p,          // models/deberta_layer: (B, NH, T, R) content→position products, then their gradient
  DebertaP2c,          // models/deberta_layer: (B, NH, T, R) position→content products, then their gradient
  DebertaScores,       // models/deberta_layer: (B, NH, T, T) the relative score addend
  DebertaKeyHeads,     // models/deberta_layer: (B, NH, T, D) the K heads kept across the attention backward
  DebertaPadded,       // models/deberta_layer: (B·T, H) one projection's padded rows around attention
  Int8Input,           // nn/int8_weight.h quantize_ahead: (rows, in) u8 + scales, a layer input quantized once
  Int8Hidden,          // FeedForward's int8 path: (rows, I) u8 + scales, act(W1·x + b1) quantized for W2
  // Per-layer members shared in inference (ScratchBuffer(SharedSlot), InferenceScratch): one per member.
  AttentionCoreHeads, AttentionCoreProbs, FeedForwardPre, LayerNormMean, LayerNormRstd, RmsNormRstd,
  BertAttentionHeadRows, BertAttentionHeadRowsGrad, BertAttentionContext, BertAttentionResidual,
  BertFeedForwardResidual, BertLayerMiddle,
  Gpt2BlockA, Gpt2BlockQkv, Gpt2BlockCtx, Gpt2BlockH1, Gpt2BlockM, Gpt2BlockPre, Gpt2BlockActOut, Gpt2BlockBranch,
  Gpt2BlockDh1, Gpt2BlockHeadRows,
  GqaContext, GatedFeedForwardGate, GatedFeedForwardUp, GatedFeedForwardProduct, DecoderLayerA, DecoderLayerH1,
  DecoderLayerM,
  ModernBertLayerA, ModernBertLayerQkv, ModernBertLayerCtx, ModernBertLayerH1, ModernBertLayerM, ModernBertLayerWi,
  ModernBertLayerGlu,
  DebertaLayerStack, DebertaLayerPosHeads, DebertaLayerContext, DebertaLayerRes1, DebertaLayerA, DebertaLayerPre,
  DebertaLayerActOut, DebertaLayerRes2,
  Count
};

// This thread's buffer for `slot` in the current placement's memory (one set of slots per memory kind).
ScratchBuffer& shared_scratch(SharedSlot slot);

}  // namespace accent
