// models/bert_embeddings.h — BertEmbeddings: X0 = Dropout(LayerNorm(word[ids] + type[token_type_ids] + pos[t])).
//
// Parameters "<prefix>.word_embeddings.weight" (V, H) with padding_idx = pad_token_id,
// "<prefix>.position_embeddings.weight" (P, H), "<prefix>.token_type_embeddings.weight" (TV, H),
// "<prefix>.LayerNorm.{weight,bias}". position_ids = 0..T−1 (absolute), token_type_ids default 0.
// Summation order matches HF: (word + token_type) + position.
// Family variations (BertDims): TV == 0 → no token-type table (DistilBERT); padding_offset_positions (RoBERTa,
// create_position_ids_from_input_ids): position = cumsum(id ≠ pad)·(id ≠ pad) + pad, and the position table has
// padding_idx = pad (its pad row gets no gradient).
#pragma once
#include <vector>
#include <string>

#include "models/bert_dims.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/layer_norm.h"
#include "nn/scratch.h"

namespace accent {

class BertEmbeddings {
 public:
  BertEmbeddings() = default;
  BertEmbeddings(const std::string& prefix, const BertDims& d);

  Embedding word, position, token_type;
  LayerNorm layer_norm;

  // input_ids (B, T); token_type_ids (B, T) or null → X0 (B, T, H). rng null = inference.
  void forward(const OpContext& ctx, const int32_t* input_ids, const int32_t* token_type_ids, float* x0, int64_t B,
               int64_t T, Rng* rng);
  // dX0 (B, T, H) → embedding and LayerNorm parameter gradients (+=). dx0 is used as scratch (clobbered).
  void backward(const OpContext& ctx, float* dx0, int64_t B, int64_t T);
  void collect(ParameterList& out);

  // Attributions (explain/): the word vectors word[ids] can be given instead of looked up — forward then sums
  // vectors[r] in place of word[ids[r]] (the inputs_embeds of HF) — and backward can hand out d(word vectors),
  // which is d(embedding sum), the same gradient the word table's scatter-add receives. Both null by default:
  // the trainer's path is unchanged.
  //   vectors (B·T, H) in the ops' memory, valid through forward; grad (B·T, H) host memory, written by backward.
  void set_word_vectors(const float* vectors) { word_vectors_ = vectors; }
  void set_word_vectors_grad(float* grad) { word_vectors_grad_ = grad; }
  // Whether backward has anything to produce: a trainable parameter, or the word-vector gradient.
  bool backward_wanted();

 private:
  int64_t H_ = 0, P_ = 0, pad_ = -1;
  bool has_token_types_ = true, padding_offset_positions_ = false;
  Dropout dropout_;
  const float* word_vectors_ = nullptr;
  float* word_vectors_grad_ = nullptr;
  bool used_word_vectors_ = false;  // the last forward summed given vectors, not word[ids]
  ScratchBuffer sum_;        // (B, T, H) embedding sum = LayerNorm input
  std::vector<int32_t> ids_host_;  // input ids, token types, position ids, 0..B·T−1 (4 × B·T), built on the host
  ScratchBuffer ids_;               // their copy in the ops' memory
};

}  // namespace accent
