// nn/parameter.h — a trainable tensor and its gradient, as the optimizer sees it.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace accent {

class Bf16WeightCache;  // nn/bf16_weight_cache.h

// A Parameter's pointer to its layer's bf16 weight copy. A copied or moved Parameter (a copied layer, a vector of
// layers that grew) gets null: the pointer belongs to the object whose collect() set it.
struct Bf16CacheLink {
  const Bf16WeightCache* cache = nullptr;
  Bf16CacheLink() = default;
  Bf16CacheLink(const Bf16CacheLink&) {}
  Bf16CacheLink& operator=(const Bf16CacheLink&) {
    cache = nullptr;
    return *this;
  }
};

struct Parameter {
  std::string name;     // Hugging Face state-dict name, e.g. "bert.encoder.layer.0.attention.self.query.weight"
  Tensor value;         // F32 master weights
  Tensor grad;          // F32, same shape; gradients accumulate (+=) until zeroed
  bool decay = true;    // AdamW weight decay applies (false for biases and LayerNorm weights, as HF's Trainer)
  bool trainable = true;
  // The owning layer's bf16 copy of `value` (Linear, Conv1D), set when the layer hands out its parameters
  // (collect), or null. AdamW refreshes that copy in its own pass over the parameter (Bf16WeightCache::
  // copy_to_refresh) instead of the next forward converting the whole weight again.
  Bf16CacheLink bf16_cache;
};

using ParameterList = std::vector<Parameter*>;

// Called during backward with parameters whose gradients are final for this backward (a module that is done), so
// data-parallel training can start reducing them while the layers below still compute (dist/grad_reducer.h).
using GradReadyHook = std::function<void(const ParameterList& ready)>;

}  // namespace accent
