#include "models/bert_encoder.h"

#include <algorithm>

namespace accent {

BertLayer::BertLayer(const std::string& prefix, const BertDims& d)
    : attention(prefix + ".attention", d), feed_forward(prefix, d), H_(d.H) {}

void BertLayer::forward(const OpContext& ctx, const float* x, const float* mask_add, float* y, int64_t B, int64_t T,
                        Rng* rng) {
  float* middle = middle_.f32(B * T * H_);
  attention.forward(ctx, x, mask_add, middle, B, T, rng);
  feed_forward.forward(ctx, middle, y, B * T, rng);
}

void BertLayer::backward(const OpContext& ctx, const float* x, const float* dy, float* dx, int64_t B, int64_t T) {
  const int64_t n = B * T * H_;
  float* dmiddle = dmiddle_.f32(n);
  feed_forward.backward(ctx, middle_.f32(n), dy, dmiddle, B * T);
  attention.backward(ctx, x, dmiddle, dx, B, T);
}

void BertLayer::collect(ParameterList& out) {
  attention.collect(out);
  feed_forward.collect(out);
}

BertEncoder::BertEncoder(const std::string& prefix, const BertDims& d) : H_(d.H) {
  layers.reserve(static_cast<size_t>(d.L));
  for (int64_t l = 0; l < d.L; ++l)
    layers.push_back(std::make_unique<BertLayer>(prefix + ".layer." + std::to_string(l), d));
}

const float* BertEncoder::forward(const OpContext& ctx, const float* x0, const float* mask_add, int64_t B, int64_t T,
                                  Rng* rng) {
  const int64_t n = B * T * H_, L = static_cast<int64_t>(layers.size());
  if (L == 0) return x0;
  float* hidden = hidden_.f32(L * n);
  const float* x = x0;
  for (int64_t l = 0; l < L; ++l) {
    layers[l]->forward(ctx, x, mask_add, hidden + l * n, B, T, rng);
    x = hidden + l * n;
  }
  return x;
}

void BertEncoder::backward(const OpContext& ctx, const float* x0, const float* dlast, float* dx0, int64_t B,
                           int64_t T) {
  const int64_t n = B * T * H_, L = static_cast<int64_t>(layers.size());
  if (L == 0) {
    std::copy(dlast, dlast + n, dx0);
    return;
  }
  float* hidden = hidden_.f32(L * n);
  float* ping = gradient_.f32(2 * n);
  const float* dy = dlast;
  for (int64_t l = L - 1; l >= 0; --l) {
    const float* x = l == 0 ? x0 : hidden + (l - 1) * n;
    float* dx = l == 0 ? dx0 : ping + (l % 2) * n;
    layers[l]->backward(ctx, x, dy, dx, B, T);
    dy = dx;
  }
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
