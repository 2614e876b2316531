// nn/parameter_init.h — making parameters and filling them as transformers' `_init_weights` does.
//
// HF BertPreTrainedModel._init_weights: Linear weight ~ Normal(0, initializer_range), bias = 0; Embedding weight
// ~ Normal(0, initializer_range) with the padding_idx row zeroed; LayerNorm weight = 1, bias = 0. Values come from
// accent's counter-based Rng, so they are reproducible from a seed (torch's RNG cannot be matched; only the
// distribution is). Element i of a tensor uses the stream rng at counter 2·i, so filling is parallel and the same
// for any thread count.
#pragma once
#include <string>

#include "core/rng.h"
#include "nn/parameter.h"

namespace accent {

// A parameter with zero value and zero gradient of `shape`; decay as HF's Trainer (no decay for biases and
// LayerNorm weights is decided by the caller).
Parameter make_parameter(const std::string& name, Shape shape, bool decay);

void init_normal(Parameter& p, float stddev, const Rng& rng);
// Normal(0, stddev) truncated to [−cutoff·stddev, cutoff·stddev] (torch.nn.init.trunc_normal_, as ModernBERT's
// _init_weights uses it): each element redraws until it falls inside, from its own counter range.
void init_truncated_normal(Parameter& p, float stddev, float cutoff, const Rng& rng);
void init_constant(Parameter& p, float value);
// Zeroes row `row` of a (rows, C) parameter (the padding embedding).
void zero_row(Parameter& p, int64_t row);

}  // namespace accent
