// nn/grouped_query_attention.h — causal self-attention with rotary positions and grouped key/value heads, as
// Hugging Face's Qwen2Attention / LlamaAttention compute it (eager path), forward and hand-written backward.
//
//   q = x·Wqᵀ (+ bq)    (rows, NH·D)        k = x·Wkᵀ (+ bk), v = x·Wvᵀ (+ bv)   (rows, NKV·D)
//   q, k ← RoPE(q, positions), RoPE(k, positions)          ops/rotary.h, per head, half-split layout
//   K, V heads repeated: query head h reads key/value head h / (NH/NKV)       (repeat_kv)
//   context = causal attention(Q, K, V, M)                  nn/attention_core.h, scale √D
//   y = context·Woᵀ (+ bo)                                   (rows, H)
// Backward of the repetition sums the NH/NKV query heads' gradients into their shared key/value head.
// D = head_dim (H / NH unless the config says otherwise). Qwen2: q/k/v biases, no o bias; Llama: attention_bias for
// all four.
#pragma once
#include <string>
#include <vector>

#include "core/rng.h"
#include "nn/attention_core.h"
#include "nn/linear.h"
#include "nn/scratch.h"
#include "nn/token_packing.h"
#include "ops/rotary.h"

namespace accent {

struct GroupedQueryAttentionDims {
  int64_t hidden = 0;     // H
  int64_t heads = 0;      // NH query heads
  int64_t kv_heads = 0;   // NKV key/value heads (NH a multiple of it)
  int64_t head_dim = 0;   // D
  bool qkv_bias = false, output_bias = false;
  float attention_dropout = 0.0f;
  std::vector<float> inv_freq;  // D/2 rotary frequencies (ops/rotary.h rotary_inv_freq)
};

class GroupedQueryAttention {
 public:
  GroupedQueryAttention() = default;
  // Parameters "<name>.{q,k,v,o}_proj.*".
  GroupedQueryAttention(const std::string& name, GroupedQueryAttentionDims dims);

  Linear q_proj, k_proj, v_proj, o_proj;
  const AttentionCore& core() const { return core_; }

  // x (rows, H) → y (rows, H). positions: (rows) int32 in the ops' memory, each row's position in its sequence.
  // mask_add (B, T) or null. With a packing, x and y hold the packed rows; attention runs on the padded heads.
  void forward(const OpContext& ctx, const float* x, const int32_t* positions, const float* mask_add, float* y,
               int64_t B, int64_t T, Rng* rng, const TokenPacking* packing);
  // dy (rows, H) → dx (rows, H), overwritten (must not alias x or dy); parameter gradients accumulate.
  void backward(const OpContext& ctx, const float* x, const int32_t* positions, const float* dy, float* dx, int64_t B,
                int64_t T, const TokenPacking* packing);
  void collect(ParameterList& out);

 private:
  // A projection (rows, heads·D) → its head block (B, heads, T, D), through the padded layout with a packing.
  void to_heads(const OpContext& ctx, const float* projected, float* head_block, int64_t heads, int64_t B, int64_t T,
                const TokenPacking* packing);
  // A head block (B, heads, T, D) → (rows, heads·D) in the GqaStage slot.
  float* from_heads(const OpContext& ctx, const float* head_block, int64_t heads, int64_t B, int64_t T,
                    const TokenPacking* packing);

  GroupedQueryAttentionDims d_;
  AttentionCore core_;
  ScratchBuffer context_{SharedSlot::GqaContext};  // (rows, NH·D) merged context, o_proj's input
};

}  // namespace accent
