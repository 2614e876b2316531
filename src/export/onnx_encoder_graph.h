// export/onnx_encoder_graph.h — the graph of a BERT-family *ForSequenceClassification (BERT, RoBERTa, XLM-RoBERTa,
// ELECTRA, DistilBERT), mirroring models/bert_classifier.cpp and models/encoder_classifier.cpp:
//
//   X0 = LayerNorm(word[ids] + token_type[types] + position[pos])          (B, T, E)   (+ ELECTRA's projection to H)
//        pos = 0..T−1; RoBERTa: pad + cumsum(ids ≠ pad)·(ids ≠ pad) (pad for padding), token types all 0;
//        DistilBERT: no token types
//   X  = post-LN layers: X' = LN(X + Attn(X)), X = LN(X' + W2·act(W1·X'))   (B, T, H)
//   logits = head(X[:, 0])                                                   (B, C)
//        BERT: classifier(tanh(pooler(x)));  RoBERTa: out_proj(tanh(dense(x)));  ELECTRA: out_proj(gelu(dense(x)));
//        DistilBERT: classifier(relu(pre_classifier(x)))
// Inputs as optimum names them: input_ids, attention_mask, and token_type_ids for BERT and ELECTRA.
#pragma once
#include <string>
#include <vector>

#include "export/onnx_layers.h"
#include "io/config.h"

namespace accent {

// Declares the inputs and the "logits" output and writes the nodes; returns the input names in order.
std::vector<std::string> build_encoder_graph(OnnxGraph& g, NamedWeights& w, const ModelConfig& config,
                                             const std::string& family);

}  // namespace accent
