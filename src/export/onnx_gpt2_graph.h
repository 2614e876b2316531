// export/onnx_gpt2_graph.h — the graph of GPT2ForSequenceClassification, mirroring models/gpt2_classifier.cpp and
// models/gpt2_block.cpp:
//
//   X0 = wte[ids] + wpe[0..T−1]                                               (B, T, H)
//   X  = pre-LN blocks: X' = X + c_proj(Attn_causal(ln_1(X))), X = X' + mlp_c_proj(act(c_fc(ln_2(X'))))
//        attention: S = Q·Kᵀ / (√D if scale_attn_weights)·(l + 1 if scale_attn_by_inverse_layer_idx);
//        key j of query i is kept when j ≤ i and attention_mask[b, j] = 1, else finfo.min is added
//   logits[b] = score(ln_f(X[b, last_b]))                                     (B, C), score without bias
//        last_b = argmax_t(t·[ids[b, t] ≠ pad_token_id]): the rightmost non-pad token, 0 for an all-pad row
// Inputs as optimum names them: input_ids, attention_mask.
#pragma once
#include <string>
#include <vector>

#include "export/onnx_layers.h"
#include "io/config.h"

namespace accent {

// Declares the inputs and the "logits" output and writes the nodes; returns the input names in order.
std::vector<std::string> build_gpt2_graph(OnnxGraph& g, NamedWeights& w, const ModelConfig& config);

}  // namespace accent
