// models/partial_freeze.h — full fine-tuning with the bottom of the model frozen (--freeze-embeddings,
// --freeze-layers N), through the same mechanism as LoRA (nn/freeze.h: no gradient buffers, no weight-gradient
// products, no AdamW state for frozen tensors).
#pragma once
#include <cstdint>

#include "models/classifier.h"

namespace accent {

struct FreezeOptions {
  bool embeddings = false;  // every "*.embeddings.*" parameter (GPT-2: transformer.wte and transformer.wpe)
  int64_t layers = 0;       // encoder layers 0..N−1 ("*.layer.<l>.*" / "*.h.<l>.*"); the top layers stay trainable
};

// Freezes as asked; returns the number of frozen parameter tensors. Throws when N exceeds the layer count.
int64_t apply_freezing(SequenceClassifier& model, const FreezeOptions& options);

}  // namespace accent
