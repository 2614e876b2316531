#include "models/bert_dims.h"

#include "core/error.h"

namespace accent {

BertDims BertDims::from_config(const ModelConfig& c, const std::string& origin) {
  BertDims d;
  d.V = c.vocab_size, d.H = c.hidden_size, d.L = c.num_hidden_layers, d.NH = c.num_attention_heads;
  d.I = c.intermediate_size, d.P = c.max_position_embeddings, d.TV = c.type_vocab_size, d.C = c.num_labels();
  d.pad = c.pad_token_id.value_or(-1);
  d.eps = static_cast<float>(c.layer_norm_eps);
  d.hidden_dropout = static_cast<float>(c.hidden_dropout_prob);
  d.attention_dropout = static_cast<float>(c.attention_probs_dropout_prob);
  d.classifier_dropout = static_cast<float>(c.classifier_dropout.value_or(c.hidden_dropout_prob));
  d.act = activation_from_name(c.hidden_act);
  ACCENT_CHECK(d.V > 0 && d.H > 0 && d.L >= 0 && d.NH > 0 && d.I > 0 && d.P > 0 && d.TV >= 0, origin,
               ": model sizes must be positive (vocab_size ", d.V, ", hidden_size ", d.H, ", num_attention_heads ", d.NH,
               ", intermediate_size ", d.I, ", max_position_embeddings ", d.P, ", type_vocab_size ", d.TV, ")");
  ACCENT_CHECK(d.H % d.NH == 0, origin, ": hidden_size ", d.H, " is not a multiple of num_attention_heads ", d.NH);
  ACCENT_CHECK(d.C >= 1, origin, ": num_labels must be at least 1 (id2label is empty)");
  ACCENT_CHECK(c.position_embedding_type == "absolute", origin, ": position_embedding_type \"",
               c.position_embedding_type, "\" is not supported yet (only \"absolute\")");
  ACCENT_CHECK(d.pad < d.V, origin, ": pad_token_id ", d.pad, " is outside the vocabulary (vocab_size ", d.V, ")");
  for (float p : {d.hidden_dropout, d.attention_dropout, d.classifier_dropout})
    ACCENT_CHECK(p >= 0.0f && p < 1.0f, origin, ": dropout probabilities must be in [0, 1), got ", p);
  return d;
}

}  // namespace accent
