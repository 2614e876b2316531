// models/model_size.h — a model's size from its config alone, checked before anything is allocated.
//
// Why: `num_hidden_layers: 1000000` or a head of 10^9 labels grew memory until the machine ran out (the arenas
// are sized from the config, and a config is untrusted input). The estimate counts the parameters of the
// family's layout (embeddings, L blocks of attention + feed-forward + LayerNorms, pooler and head); it is exact
// for BERT and within a few per cent for the other families, which is all a refusal needs.
#pragma once
#include <cstdint>
#include <string>

#include "io/config.h"

namespace accent {

// Parameters of the model `config` describes (a double: absurd configs overflow int64).
double estimated_parameter_count(const ModelConfig& config);

// Throws accent::Error naming `origin`, the size and the keys that make it when the fp32 weights alone would
// not fit in this machine's physical memory, or when a dimension is not positive.
void check_model_size(const ModelConfig& config, const std::string& origin);

}  // namespace accent
