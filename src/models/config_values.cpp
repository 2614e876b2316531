#include "models/config_values.h"

#include "core/error.h"
#include "core/json_number.h"

namespace accent {

double extra_number(const ModelConfig& c, const char* key, double fallback) {
  const auto it = c.extra.find(key);
  return it != c.extra.end() && it->is_number() ? it->get<double>() : fallback;
}

bool extra_bool(const ModelConfig& c, const char* key, bool fallback) {
  const auto it = c.extra.find(key);
  return it != c.extra.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

int64_t extra_positive_integer(const ModelConfig& c, const char* key, int64_t fallback, const std::string& origin) {
  const auto it = c.extra.find(key);
  if (it == c.extra.end() || it->is_null()) return fallback;
  return json_integer(*it, origin + ": key \"" + key + "\"", 1);
}

std::string extra_string(const ModelConfig& c, const char* key, const std::string& fallback) {
  const auto it = c.extra.find(key);
  return it != c.extra.end() && it->is_string() ? it->get<std::string>() : fallback;
}

float token_head_dropout(const ModelConfig& c) {
  for (const char* key : {"classifier_dropout", "hidden_dropout"}) {
    const auto it = c.extra.find(key);
    if (it != c.extra.end() && it->is_number()) return it->get<float>();
  }
  return c.classifier_dropout ? static_cast<float>(*c.classifier_dropout) : 0.1f;
}

ModelConfig with_eos_as_pad(ModelConfig c, const std::string& family, const std::string& origin) {
  if (c.pad_token_id) return c;
  const auto eos = c.extra.find("eos_token_id");
  const nlohmann::json* id = nullptr;
  if (eos != c.extra.end() && eos->is_number_integer()) id = &*eos;
  if (eos != c.extra.end() && eos->is_array() && !eos->empty() && eos->front().is_number_integer())
    id = &eos->front();
  ACCENT_CHECK(id, origin, ": ", family,
               " config has neither pad_token_id nor an integer eos_token_id; set pad_token_id so that batches can be "
               "padded and pooled");
  c.pad_token_id = json_integer(*id, origin + ": key \"eos_token_id\"", 0);
  return c;
}

CoreSizes core_sizes(const ModelConfig& c, const std::string& origin) {
  CoreSizes s;
  s.V = c.vocab_size, s.H = c.hidden_size, s.L = c.num_hidden_layers, s.NH = c.num_attention_heads;
  s.I = c.intermediate_size, s.C = c.num_labels();
  ACCENT_CHECK(s.V > 0 && s.H > 0 && s.L >= 0 && s.NH > 0 && s.I > 0, origin,
               ": model sizes must be positive (vocab_size ", s.V, ", hidden_size ", s.H, ", num_attention_heads ",
               s.NH, ", intermediate_size ", s.I, ")");
  ACCENT_CHECK(s.C >= 1, origin, ": num_labels must be at least 1 (id2label is empty)");
  return s;
}

}  // namespace accent
