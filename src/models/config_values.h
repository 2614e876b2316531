// models/config_values.h — reading the family-specific keys a model keeps in ModelConfig::extra, and the pad token
// of the decoder families (GPT-2, Qwen2, Llama), which often have none.
#pragma once
#include <string>

#include "io/config.h"

namespace accent {

// config.extra[key] when it is a number / a boolean, else `fallback`.
double extra_number(const ModelConfig& c, const char* key, double fallback);
bool extra_bool(const ModelConfig& c, const char* key, bool fallback);
// config.extra[key] as an integer ≥ 1 (an error naming `origin` and the key otherwise), `fallback` when absent or
// null.
int64_t extra_positive_integer(const ModelConfig& c, const char* key, int64_t fallback, const std::string& origin);
// config.extra[key] when it is a string, else `fallback`.
std::string extra_string(const ModelConfig& c, const char* key, const std::string& fallback);

// The sizes every family reads: V vocab_size, H hidden_size, L num_hidden_layers, NH num_attention_heads,
// I intermediate_size, C num_labels — checked (positive; L ≥ 0; an error naming `origin`). The families' dims
// structs derive from it.
struct CoreSizes {
  int64_t V = 0, H = 0, L = 0, NH = 0, I = 0, C = 0;
};
CoreSizes core_sizes(const ModelConfig& c, const std::string& origin);

// The dropout of a decoder's *ForTokenClassification head (GPT-2, Qwen2, Llama): classifier_dropout, else
// hidden_dropout, else 0.1 (their configs usually have neither).
float token_head_dropout(const ModelConfig& c);

// A decoder config without pad_token_id gets eos_token_id (the first one when it is a list), as HF's fine-tuning
// recipe does (model.config.pad_token_id = tokenizer.eos_token_id), so batches can be padded and the last real
// token found; the id is then saved with the model. `family` names the model in the error when there is no eos.
ModelConfig with_eos_as_pad(ModelConfig c, const std::string& family, const std::string& origin);

}  // namespace accent
