// models/bert_dims.h — the shape and dropout numbers of a BERT-family encoder, read once from a ModelConfig.
#pragma once
#include <string>

#include "io/config.h"
#include "ops/activation.h"

namespace accent {

struct BertDims {
  int64_t V = 0;   // vocab_size
  int64_t H = 0;   // hidden_size
  int64_t L = 0;   // num_hidden_layers
  int64_t NH = 0;  // num_attention_heads
  int64_t I = 0;   // intermediate_size
  int64_t P = 0;   // max_position_embeddings
  int64_t TV = 0;  // type_vocab_size
  int64_t C = 0;   // num_labels
  int64_t pad = -1;  // pad_token_id (padding_idx of the word embeddings), -1 = none
  float eps = 1e-12f;
  float hidden_dropout = 0.1f, attention_dropout = 0.1f, classifier_dropout = 0.1f;
  Activation act = Activation::Gelu;
  // Family variations of the shared BERT blocks (defaults = BERT):
  bool padding_offset_positions = false;  // RoBERTa: position ids pad+1, pad+2, … for real tokens, pad for padding
  bool attention_output_dropout = true;   // DistilBERT: no dropout on the attention output before sa_layer_norm

  // Validates what BERT's math needs (positive sizes, H % NH == 0, absolute positions) naming `origin`.
  static BertDims from_config(const ModelConfig& config, const std::string& origin);
};

}  // namespace accent
