// nn/parameter.h — a trainable tensor and its gradient, as the optimizer sees it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace accent {

class Bf16WeightCache;  // nn/bf16_weight_cache.h

struct Parameter {
  std::string name;     // Hugging Face state-dict name, e.g. "bert.encoder.layer.0.attention.self.query.weight"
  Tensor value;         // F32 master weights
  Tensor grad;          // F32, same shape; gradients accumulate (+=) until zeroed
  bool decay = true;    // AdamW weight decay applies (false for biases and LayerNorm weights, as HF's Trainer)
  bool trainable = true;
  // The owning layer's bf16 copy of `value` (Linear, Conv1D), set when the layer hands out its parameters
  // (collect), or null. AdamW refreshes that copy in its own pass over the parameter (refresh_in_update) instead of
  // the next forward converting the whole weight again.
  const Bf16WeightCache* bf16_cache = nullptr;
};

using ParameterList = std::vector<Parameter*>;

// Called during backward with parameters whose gradients are final for this backward (a module that is done), so
// data-parallel training can start reducing them while the layers below still compute (dist/grad_reducer.h).
using GradReadyHook = std::function<void(const ParameterList& ready)>;

}  // namespace accent
