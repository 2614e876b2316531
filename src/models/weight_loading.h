// models/weight_loading.h — filling any *ForSequenceClassification model from a checkpoint's tensors
// (transformers modeling_utils rules, spec checkpoints.md §4), shared by every family:
//  - legacy names: "…LayerNorm.gamma" → "…LayerNorm.weight", "…LayerNorm.beta" → "…LayerNorm.bias";
//  - base prefix ("bert", "roberta", "distilbert", "electra", "transformer"): when no checkpoint key starts with
//    "<prefix>." (a base-model checkpoint such as the hub's gpt2 with "h.0.…", "wte.weight"), every model key is
//    looked up without it; head keys match as they are;
//  - buffers (spec: "*.embeddings.position_ids", "*.embeddings.token_type_ids", GPT-2 "h.L.attn.bias" and
//    "h.L.attn.masked_bias") are dropped silently; every other unused tensor is an unexpected key;
//  - a parameter with no tensor is a missing key, initialised by the family's _init_weights;
//  - a shape mismatch is an error naming the tensor and both shapes unless ignore_mismatched_sizes (then the
//    parameter is initialised fresh and reported); word-embedding rows ≠ vocab_size is always an error.
#pragma once
#include <functional>
#include <string>

#include "core/rng.h"
#include "models/checkpoint_tensors.h"
#include "models/registry.h"
#include "nn/parameter.h"

namespace accent {

struct WeightLoadSpec {
  std::string base_prefix;          // without the dot, e.g. "roberta"
  std::string word_embeddings;      // the model's word-embedding parameter name (vocabulary check)
  int64_t vocab_size = 0, hidden_size = 0;
  std::function<void(Parameter&, const Rng&)> init;  // _init_weights for one missing parameter
  // Checkpoint keys containing one of these are dropped without an "unexpected" warning (transformers'
  // _keys_to_ignore_on_load_unexpected), reported as ignored buffers.
  std::vector<std::string> ignore_unexpected;
};

// Loads `checkpoint` (found in `dir`) into `params` (state-dict order); fills `report`.
void load_weights(const ParameterList& params, const CheckpointTensors& checkpoint, const std::string& dir,
                  const WeightLoadSpec& spec, const LoadOptions& options, LoadReport& report);

}  // namespace accent
