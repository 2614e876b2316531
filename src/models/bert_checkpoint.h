// models/bert_checkpoint.h — filling a BertForSequenceClassification from any BERT checkpoint's tensors.
//
// The rules are models/weight_loading.h's (legacy LayerNorm.gamma/beta names, "bert." prefix present or not,
// ignored buffers, unexpected/missing/mismatched keys, vocabulary check) with base prefix "bert".
#pragma once
#include <string>

#include "models/bert_classifier.h"
#include "models/checkpoint_tensors.h"
#include "models/registry.h"

namespace accent {

// Loads the tensors of `checkpoint` (found in `dir`) into `model`; fills `report`.
void load_bert_weights(BertForSequenceClassification& model, const CheckpointTensors& checkpoint,
                       const std::string& dir, const LoadOptions& options, LoadReport& report);

}  // namespace accent
