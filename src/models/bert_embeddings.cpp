#include "models/bert_embeddings.h"

#include <algorithm>

#include "core/error.h"
#include "nn/freeze.h"
#include "ops/memory.h"

namespace accent {

BertEmbeddings::BertEmbeddings(const std::string& prefix, const BertDims& d)
    : word(prefix + ".word_embeddings", d.V, d.H, d.pad),
      position(prefix + ".position_embeddings", d.P, d.H, d.padding_offset_positions ? d.pad : -1),
      token_type(d.TV > 0 ? Embedding(prefix + ".token_type_embeddings", d.TV, d.H) : Embedding()),
      layer_norm(prefix + ".LayerNorm", d.H, d.eps),
      H_(d.H),
      P_(d.P),
      pad_(d.pad),
      has_token_types_(d.TV > 0),
      padding_offset_positions_(d.padding_offset_positions),
      dropout_(d.hidden_dropout) {}

void BertEmbeddings::forward(const OpContext& ctx, const int32_t* input_ids, const int32_t* token_type_ids, float* x0,
                             int64_t B, int64_t T, Rng* rng) {
  const int64_t longest = padding_offset_positions_ ? T + pad_ + 1 : T;
  ACCENT_CHECK(longest <= P_, "sequence length ", T, " needs ", longest, " positions but max_position_embeddings is ",
               P_, " (truncate the inputs to at most ", T - (longest - P_), " tokens)");
  const int64_t rows = B * T;
  // Keep our own copies of the ids: backward must not depend on the caller's Batch outliving the step. They are
  // built on the host, then copied to where the ops read them (ids_).
  ids_host_.resize(static_cast<size_t>(4 * rows));
  int32_t* ids = ids_host_.data();
  int32_t *types = ids + rows, *positions = ids + 2 * rows, *rows_index = ids + 3 * rows;
  for (int64_t r = 0; r < rows; ++r) rows_index[r] = static_cast<int32_t>(r);  // given word vectors: row r → r
  std::copy(input_ids, input_ids + rows, ids);
  if (token_type_ids) {
    std::copy(token_type_ids, token_type_ids + rows, types);
  } else {
    std::fill(types, types + rows, 0);
  }
  for (int64_t b = 0; b < B; ++b) {
    int32_t count = 0;  // real (non-pad) tokens so far in this row
    for (int64_t t = 0; t < T; ++t) {
      if (!padding_offset_positions_) {
        positions[b * T + t] = static_cast<int32_t>(t);
      } else if (ids[b * T + t] == pad_) {
        positions[b * T + t] = static_cast<int32_t>(pad_);
      } else {
        positions[b * T + t] = static_cast<int32_t>(pad_) + (++count);
      }
    }
  }

  int32_t* op_ids = reinterpret_cast<int32_t*>(ids_.u8(4 * rows * static_cast<int64_t>(sizeof(int32_t))));
  copy_from_host(ctx, op_ids, ids, ids_host_.size() * sizeof(int32_t));
  ids = op_ids, types = op_ids + rows, positions = op_ids + 2 * rows, rows_index = op_ids + 3 * rows;

  // word + token type + position (HF's order), LayerNorm and dropout in one pass per row (ops/embedding_layernorm).
  const auto lookup = [](const Embedding& e, const int32_t* idx) {
    return EmbeddingLookup{idx, e.weight.value.f32(), e.num_embeddings(), e.weight.name.c_str()};
  };
  EmbeddingLookup lookups[3];
  int count = 0;
  used_word_vectors_ = word_vectors_ != nullptr;
  lookups[count++] = used_word_vectors_ ? EmbeddingLookup{rows_index, word_vectors_, rows, "word vectors"}
                                        : lookup(word, ids);
  if (has_token_types_) lookups[count++] = lookup(token_type, types);
  lookups[count++] = lookup(position, positions);
  layer_norm.forward_embeddings(ctx, lookups, count, dropout_.draw(rows * H_, rng), sum_.f32(rows * H_), x0, rows);
}

void BertEmbeddings::backward(const OpContext& ctx, float* dx0, int64_t B, int64_t T) {
  const int64_t rows = B * T;
  const int32_t* ids = reinterpret_cast<const int32_t*>(ids_.u8(4 * rows * static_cast<int64_t>(sizeof(int32_t))));
  const int32_t *types = ids + rows, *positions = ids + 2 * rows;
  float* grad = dx0;  // in place: dx0 becomes d(embedding sum)
  layer_norm.backward_embeddings(ctx, sum_.f32(rows * H_), dx0, dropout_.last_draw(), grad, rows);
  if (word_vectors_grad_) copy_to_host(ctx, word_vectors_grad_, grad, static_cast<size_t>(rows * H_) * sizeof(float));
  if (!used_word_vectors_) word.backward(ctx, ids, grad, rows);  // given vectors: the table took no part
  if (has_token_types_) token_type.backward(ctx, types, grad, rows);
  position.backward(ctx, positions, grad, rows);
}

bool BertEmbeddings::backward_wanted() {
  if (word_vectors_grad_) return true;
  ParameterList params;
  collect(params);
  return any_trainable(params);
}

void BertEmbeddings::collect(ParameterList& out) {
  word.collect(out);
  position.collect(out);
  if (has_token_types_) token_type.collect(out);
  layer_norm.collect(out);
}

}  // namespace accent
