#include "nn/grouped_query_attention.h"

#include <cmath>

#include "core/error.h"
#include "ops/memory.h"
#include "ops/tensor_ops.h"

namespace accent {

GroupedQueryAttention::GroupedQueryAttention(const std::string& name, GroupedQueryAttentionDims dims)
    : q_proj(name + ".q_proj", dims.hidden, dims.heads * dims.head_dim, dims.qkv_bias),
      k_proj(name + ".k_proj", dims.hidden, dims.kv_heads * dims.head_dim, dims.qkv_bias),
      v_proj(name + ".v_proj", dims.hidden, dims.kv_heads * dims.head_dim, dims.qkv_bias),
      o_proj(name + ".o_proj", dims.heads * dims.head_dim, dims.hidden, dims.output_bias),
      d_(std::move(dims)) {
  ACCENT_CHECK(d_.heads > 0 && d_.kv_heads > 0 && d_.heads % d_.kv_heads == 0, name, ": num_attention_heads (",
               d_.heads, ") is not a multiple of num_key_value_heads (", d_.kv_heads, ")");
  ACCENT_CHECK(d_.head_dim > 0 && d_.head_dim % 2 == 0, name, ": head_dim ", d_.head_dim,
               " must be even (rotary embeddings rotate pairs)");
  ACCENT_CHECK(static_cast<int64_t>(d_.inv_freq.size()) == d_.head_dim / 2, name, ": ", d_.inv_freq.size(),
               " rotary frequencies for head_dim ", d_.head_dim);
  core_ = AttentionCore(d_.heads * d_.head_dim, d_.heads, d_.attention_dropout,
                        std::sqrt(static_cast<float>(d_.head_dim)), /*causal=*/true);
}

void GroupedQueryAttention::to_heads(const OpContext& ctx, const float* projected, float* head_block, int64_t heads,
                                     int64_t B, int64_t T, const TokenPacking* packing) {
  if (!packing) return split_heads(ctx, projected, head_block, B, T, heads, d_.head_dim);
  const int64_t C = heads * d_.head_dim;
  float* padded = shared_scratch(SharedSlot::PaddedRows).f32(B * T * C);
  unpack_rows(ctx, packing, projected, padded, B, T, C);
  split_heads(ctx, padded, head_block, B, T, heads, d_.head_dim);
}

float* GroupedQueryAttention::from_heads(const OpContext& ctx, const float* head_block, int64_t heads, int64_t B,
                                         int64_t T, const TokenPacking* packing) {
  const int64_t C = heads * d_.head_dim;
  float* stage = shared_scratch(SharedSlot::GqaStage).f32(active_rows(packing, B, T) * d_.heads * d_.head_dim);
  if (!packing) {
    merge_heads(ctx, head_block, stage, B, T, heads, d_.head_dim);
    return stage;
  }
  float* padded = shared_scratch(SharedSlot::PaddedRows).f32(B * T * C);
  merge_heads(ctx, head_block, padded, B, T, heads, d_.head_dim);
  pack_rows(ctx, packing, padded, stage, B, T, C);
  return stage;
}

void GroupedQueryAttention::forward(const OpContext& ctx, const float* x, const int32_t* positions,
                                    const float* mask_add, float* y, int64_t B, int64_t T, Rng* rng,
                                    const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), NH = d_.heads, NKV = d_.kv_heads, D = d_.head_dim;
  const int64_t group = NH / NKV, block = B * NH * T * D, head_values = T * D;
  float* heads = core_.heads(B, T);
  float* stage = shared_scratch(SharedSlot::GqaStage).f32(rows * NH * D);
  const float* inv_freq = d_.inv_freq.data();

  q_proj.forward(ctx, x, stage, rows);
  rotary_forward(ctx, stage, positions, inv_freq, stage, rows, NH, D);
  to_heads(ctx, stage, heads, NH, B, T, packing);
  // K and V: NKV heads each, repeated so that query head h finds its key/value head h / group at h.
  float* kv = group > 1 ? shared_scratch(SharedSlot::GqaKvHeads).f32(B * NKV * T * D) : nullptr;
  for (int which = 1; which <= 2; ++which) {
    Linear& proj = which == 1 ? k_proj : v_proj;
    float* head_block = heads + which * block;
    proj.forward(ctx, x, stage, rows);
    if (which == 1) rotary_forward(ctx, stage, positions, inv_freq, stage, rows, NKV, D);
    to_heads(ctx, stage, group > 1 ? kv : head_block, NKV, B, T, packing);
    if (group == 1) continue;
    for (int64_t bk = 0; bk < B * NKV; ++bk)  // (b, kv) → (b, kv·group + r) for every r
      for (int64_t r = 0; r < group; ++r)
        copy_bytes(ctx, head_block + (bk * group + r) * head_values, kv + bk * head_values,
                   static_cast<size_t>(head_values) * sizeof(float));
  }

  float* context = context_.f32(rows * NH * D);
  if (!packing) {
    core_.forward(ctx, mask_add, context, B, T, rng);
  } else {
    float* padded = shared_scratch(SharedSlot::PaddedRows).f32(B * T * NH * D);
    core_.forward(ctx, mask_add, padded, B, T, rng);
    pack_rows(ctx, packing, padded, context, B, T, NH * D);
  }
  o_proj.forward(ctx, context, y, rows);
}

void GroupedQueryAttention::backward(const OpContext& ctx, const float* x, const int32_t* positions, const float* dy,
                                     float* dx, int64_t B, int64_t T, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T), NH = d_.heads, NKV = d_.kv_heads, D = d_.head_dim;
  const int64_t group = NH / NKV, head_values = T * D;
  const float* inv_freq = d_.inv_freq.data();
  float* context = context_.f32(rows * NH * D);
  float* stage = shared_scratch(SharedSlot::GqaStage).f32(rows * NH * D);

  o_proj.backward(ctx, context, dy, /*dx=*/stage, rows);  // d(context)
  AttentionCore::HeadGradients dh;
  if (!packing) {
    dh = core_.backward(ctx, stage, B, T);
  } else {
    float* padded = shared_scratch(SharedSlot::PaddedRows).f32(B * T * NH * D);
    unpack_rows(ctx, packing, stage, padded, B, T, NH * D);
    dh = core_.backward(ctx, padded, B, T);
  }

  float* dq = from_heads(ctx, dh.dq, NH, B, T, packing);
  rotary_backward(ctx, dq, positions, inv_freq, dq, rows, NH, D);
  q_proj.backward(ctx, x, dq, dx, rows);
  // dK, dV: each key/value head's gradient is the sum over the query heads of its group.
  float* kv = group > 1 ? shared_scratch(SharedSlot::GqaKvHeads).f32(B * NKV * T * D) : nullptr;
  for (int which = 1; which <= 2; ++which) {
    const float* head_grad = which == 1 ? dh.dk : dh.dv;
    if (group > 1) {
      for (int64_t bk = 0; bk < B * NKV; ++bk) {
        float* sum = kv + bk * head_values;
        copy_bytes(ctx, sum, head_grad + bk * group * head_values, static_cast<size_t>(head_values) * sizeof(float));
        for (int64_t r = 1; r < group; ++r) add_inplace(ctx, head_grad + (bk * group + r) * head_values, sum, head_values);
      }
      head_grad = kv;
    }
    float* grad = from_heads(ctx, head_grad, NKV, B, T, packing);
    if (which == 1) rotary_backward(ctx, grad, positions, inv_freq, grad, rows, NKV, D);
    (which == 1 ? k_proj : v_proj).backward(ctx, x, grad, dx, rows, /*accumulate_dx=*/true);
  }
}

void GroupedQueryAttention::collect(ParameterList& out) {
  q_proj.collect(out);
  k_proj.collect(out);
  v_proj.collect(out);
  o_proj.collect(out);
}

}  // namespace accent
