#include "models/normed_token_embeddings.h"

namespace accent {

NormedTokenEmbeddings::NormedTokenEmbeddings(const std::string& word_name, const std::string& norm_name, int64_t V,
                                             int64_t H, int64_t padding_idx, float eps, bool norm_bias, float dropout)
    : word(word_name, V, H, padding_idx), norm(norm_name, H, eps, norm_bias), H_(H), dropout_(dropout) {}

void NormedTokenEmbeddings::forward(const OpContext& ctx, const int32_t* ids, float* x0, int64_t rows, Rng* rng) {
  float* embedded = embedded_.f32(rows * H_);
  word.forward(ctx, ids, embedded, rows, /*accumulate=*/false);
  norm.forward(ctx, embedded, x0, rows);
  dropout_.forward(ctx, x0, x0, rows * H_, rng);
}

void NormedTokenEmbeddings::backward(const OpContext& ctx, const int32_t* ids, float* dx0, int64_t rows) {
  dropout_.backward(ctx, dx0, dx0, rows * H_);
  norm.backward(ctx, embedded_.f32(rows * H_), dx0, dx0, rows);
  word.backward(ctx, ids, dx0, rows);
}

void NormedTokenEmbeddings::collect(ParameterList& out) {
  word.collect(out);
  norm.collect(out);
}

}  // namespace accent
