#include "models/bert_encoder.h"

#include <algorithm>
#include <atomic>

#include "nn/freeze.h"
#include "nn/lora.h"
#include "nn/token_packing.h"
#include "ops/memory.h"
#include "ops/tensor_ops.h"

namespace accent {

BertLayer::BertLayer(const std::string& prefix, const BertDims& d)
    : attention(prefix + ".attention", d), feed_forward(prefix, d), H_(d.H) {}

void BertLayer::forward(const OpContext& ctx, const float* x, const float* mask_add, float* y, int64_t B, int64_t T,
                        Rng* rng, const TokenPacking* packing) {
  const int64_t rows = active_rows(packing, B, T);
  float* middle = middle_.f32(rows * H_);
  attention.forward(ctx, x, mask_add, middle, B, T, rng, packing);
  feed_forward.forward(ctx, middle, y, rows, rng, packing);
}

void BertLayer::forward_head_rows(const OpContext& ctx, const float* x, const float* mask_add, const HeadRows& rows,
                                  float* y, int64_t B, int64_t T, Rng* rng, const TokenPacking* packing) {
  float* middle = middle_.f32(B * H_);
  attention.forward_head_rows(ctx, x, mask_add, rows, middle, B, T, rng, packing);
  feed_forward.forward(ctx, middle, y, B, rng, &rows.tokens);
}

namespace {
std::atomic<int64_t> g_layer_backward_runs{0};
}  // namespace

int64_t BertLayer::backward_runs() { return g_layer_backward_runs.load(std::memory_order_relaxed); }

void BertLayer::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T,
                         const TokenPacking* packing) {
  g_layer_backward_runs.fetch_add(1, std::memory_order_relaxed);
  const int64_t rows = active_rows(packing, B, T), n = rows * H_;
  // d(middle) lives only inside this call: one buffer shared by all layers (nn/scratch.h).
  float* dmiddle = shared_scratch(SharedSlot::LayerGradient).f32(n);
  feed_forward.backward(ctx, middle_.f32(n), dy, dmiddle, rows);
  // dx null: BertAttention skips the residual path and the Q/K/V input-gradient products; a fully frozen
  // attention (no trainable parameter or adapter) has nothing else to compute.
  if (dx || attention_trainable()) attention.backward(ctx, x, dmiddle, dx, B, T, packing);
}

void BertLayer::backward_head_rows(const OpContext& ctx, const float* x, const float* dy, float* dx,
                                   const HeadRows& rows, int64_t B, int64_t T, const TokenPacking* packing) {
  g_layer_backward_runs.fetch_add(1, std::memory_order_relaxed);
  const int64_t n = B * H_;
  float* dmiddle = shared_scratch(SharedSlot::LayerGradient).f32(n);
  feed_forward.backward(ctx, middle_.f32(n), dy, dmiddle, B);
  if (dx || attention_trainable()) attention.backward_head_rows(ctx, x, dmiddle, dx, rows, B, T, packing);
}

void BertLayer::collect(ParameterList& out) {
  attention.collect(out);
  feed_forward.collect(out);
}

bool BertLayer::attention_trainable() {
  ParameterList params;
  attention.collect(params);
  return any_trainable(params) || has_trainable_adapter(attention.self.query.lora) ||
         has_trainable_adapter(attention.self.key.lora) || has_trainable_adapter(attention.self.value.lora) ||
         has_trainable_adapter(attention.output_dense.lora);
}

bool BertLayer::trainable() {
  ParameterList params;
  feed_forward.collect(params);
  return attention_trainable() || any_trainable(params) ||
         has_trainable_adapter(feed_forward.ffn.dense_in.lora) || has_trainable_adapter(feed_forward.ffn.dense_out.lora);
}

BertEncoder::BertEncoder(const std::string& prefix, const BertDims& d) : H_(d.H) {
  layers.reserve(static_cast<size_t>(d.L));
  for (int64_t l = 0; l < d.L; ++l)
    layers.push_back(std::make_unique<BertLayer>(prefix + ".layer." + std::to_string(l), d));
}

const float* BertEncoder::forward(const OpContext& ctx, const float* x0, const float* mask_add, int64_t B, int64_t T,
                                  Rng* rng, const TokenPacking* packing, const HeadRows* head_rows) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_, L = static_cast<int64_t>(layers.size());
  if (L == 0) return x0;
  // Every layer's output (layer l's input is x0 or output l−1); in inference (nn/scratch.h InferenceScratch) no
  // backward reads them, so two slots alternate.
  const int64_t kept = InferenceScratch::active() ? std::min<int64_t>(L, 2) : L;
  float* hidden = hidden_.f32(kept * n);
  auto state = [&](int64_t l) { return hidden + (l % kept) * n; };
  // x0 packed (with a packing) | the last state unpacked (with a packing or head rows)
  const int64_t packed_x0 = packing ? n : 0;
  float* packed = packing || head_rows ? packed_.f32(packed_x0 + B * T * H_) : nullptr;
  const float* x = x0;
  if (packing) {
    pack_rows(ctx, packing, x0, packed, B, T, H_);
    x = packed;
  }
  for (int64_t l = 0; l < L; ++l) {
    if (l == L - 1 && head_rows) {
      layers[l]->forward_head_rows(ctx, x, mask_add, *head_rows, state(l), B, T, rng, packing);
      // The B head rows go to their places of the (B, T, H) state, the rest 0.
      scatter_token_rows(ctx, state(l), head_rows->tokens.row_index, packed + packed_x0, B, B * T, H_);
      return packed + packed_x0;
    }
    layers[l]->forward(ctx, x, mask_add, state(l), B, T, rng, packing);
    x = state(l);
  }
  if (!packing) return x;
  unpack_rows(ctx, packing, x, packed + n, B, T, H_);  // after packed x0, which layer 0's backward reads
  return packed + n;
}

void BertEncoder::backward(const OpContext& ctx, const float* x0, const float* dlast, float* dx0, int64_t B,
                           int64_t T, const TokenPacking* packing, const HeadRows* head_rows) {
  const int64_t rows = active_rows(packing, B, T), n = rows * H_, L = static_cast<int64_t>(layers.size());
  if (L == 0) {
    if (dx0) copy_bytes(ctx, dx0, dlast, static_cast<size_t>(B * T * H_) * sizeof(float));
    return;
  }
  // Without an input gradient to deliver, layers below the lowest trainable one have nothing to compute.
  const int64_t lowest = dx0 ? 0 : lowest_trainable_layer();
  if (lowest == L) return;
  float* hidden = hidden_.f32(L * n);
  float* ping = gradient_.f32((packing || head_rows ? 3 : 2) * n);  // ping | pong | d(last) of the layer's rows
  const float* dy = dlast;
  const float* layer_x0 = packing ? packed_.f32(n + B * T * H_) : x0;
  if (head_rows) {  // d(last state) of the head rows only: the last layer took B rows
    gather_token_rows(ctx, dlast, head_rows->tokens.row_index, ping + 2 * n, B, B * T, H_);
    dy = ping + 2 * n;
  } else if (packing) {
    pack_rows(ctx, packing, dlast, ping + 2 * n, B, T, H_);
    dy = ping + 2 * n;
  }
  for (int64_t l = L - 1; l >= lowest; --l) {
    const float* x = l == 0 ? layer_x0 : hidden + (l - 1) * n;
    // The lowest layer's: dx0 (packed first with a packing), or null when not wanted.
    float* dx = l == lowest ? (dx0 && packing ? ping + (l % 2) * n : dx0) : ping + (l % 2) * n;
    if (l == L - 1 && head_rows) layers[l]->backward_head_rows(ctx, x, dy, dx, *head_rows, B, T, packing);
    else layers[l]->backward(ctx, x, dy, dx, B, T, packing);
    if (grad_ready_hook) {
      ParameterList done;
      layers[l]->collect(done);
      grad_ready_hook(done);
    }
    dy = dx;
  }
  if (dx0 && packing) unpack_rows(ctx, packing, dy, dx0, B, T, H_);
}

int64_t BertEncoder::lowest_trainable_layer() {
  const int64_t L = static_cast<int64_t>(layers.size());
  for (int64_t l = 0; l < L; ++l)
    if (layers[l]->trainable()) return l;
  return L;
}

void BertEncoder::collect(ParameterList& out) {
  for (auto& layer : layers) layer->collect(out);
}

std::vector<Linear*> BertEncoder::linears() {
  std::vector<Linear*> out;
  for (auto& layer : layers)
    for (Linear* l : {&layer->attention.self.query, &layer->attention.self.key, &layer->attention.self.value,
                      &layer->attention.output_dense, &layer->feed_forward.ffn.dense_in, &layer->feed_forward.ffn.dense_out})
      out.push_back(l);
  return out;
}

}  // namespace accent
