// models/bert_checkpoint.h — filling a BertForSequenceClassification from any BERT checkpoint's tensors.
//
// Key rules (transformers modeling_utils, spec checkpoints.md §4):
//  - legacy names: "…LayerNorm.gamma" → "…LayerNorm.weight", "…LayerNorm.beta" → "…LayerNorm.bias";
//  - prefix: when no checkpoint key starts with "bert." (a BertModel checkpoint), every model key is looked up
//    without its "bert." prefix; head keys ("classifier.*") match as they are;
//  - buffers "*.embeddings.position_ids" / "*.embeddings.token_type_ids" are dropped silently;
//  - every other unused tensor (cls.predictions.*, cls.seq_relationship.*, …) is an unexpected key;
//  - a model parameter with no tensor is a missing key and is initialised like HF's _init_weights;
//  - a shape mismatch is an error naming the tensor and both shapes unless ignore_mismatched_sizes (then the
//    parameter is initialised fresh and reported); word-embedding rows ≠ vocab_size is always an error.
#pragma once
#include <string>

#include "io/safetensors.h"
#include "models/bert_classifier.h"
#include "models/registry.h"

namespace accent {

// Loads the tensors of `checkpoint` (found in `dir`) into `model`; fills `report`.
void load_bert_weights(BertForSequenceClassification& model, const SafetensorsCheckpoint& checkpoint,
                       const std::string& dir, const LoadOptions& options, LoadReport& report);

}  // namespace accent
