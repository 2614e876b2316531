// models/normed_token_embeddings.h — the embeddings of the families without absolute positions that norm the token
// vectors straight away (ModernBertEmbeddings; DebertaV2Embeddings with position_biased_input = false and no
// token types):
//   X0 = Dropout(LayerNorm(word[ids]))          word (V, H) with its padding_idx, LayerNorm with or without bias
// Parameters "<word_name>.weight", "<norm_name>.weight" (and ".bias"), in that order. Runs on the padded rows
// (cheap); the caller packs X0 for unpadded execution.
#pragma once
#include <string>

#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/layer_norm.h"
#include "nn/scratch.h"

namespace accent {

class NormedTokenEmbeddings {
 public:
  NormedTokenEmbeddings(const std::string& word_name, const std::string& norm_name, int64_t V, int64_t H,
                        int64_t padding_idx, float eps, bool norm_bias, float dropout);

  Embedding word;
  LayerNorm norm;

  // ids (rows) int32 in the ops' memory → x0 (rows, H). rng null = inference.
  void forward(const OpContext& ctx, const int32_t* ids, float* x0, int64_t rows, Rng* rng);
  // dx0 (rows, H), overwritten on the way → the parameters' gradients (+=). After forward with the same ids.
  void backward(const OpContext& ctx, const int32_t* ids, float* dx0, int64_t rows);
  void collect(ParameterList& out);

 private:
  int64_t H_;
  Dropout dropout_;
  ScratchBuffer embedded_;  // (rows, H) word[ids], the norm's input
};

}  // namespace accent
