// export/onnx_layers.h — the building blocks of models/ and nn/ spelled as ONNX nodes: nn.Linear, GPT-2's Conv1D,
// LayerNorm, the activations of ops/activation.h, the additive attention mask and scaled dot-product attention.
// Each helper takes the graph value of its input and returns the graph value of its output; weights are looked up
// by their Hugging Face names in NamedWeights, which remembers which ones were used so that the exporter can prove
// that every parameter of the model went into the graph.
#pragma once
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "export/onnx_graph.h"
#include "nn/parameter.h"
#include "ops/activation.h"

namespace accent {

// The model's parameters by HF state-dict name (not owned: they live in the loaded model).
class NamedWeights {
 public:
  explicit NamedWeights(const ParameterList& params);
  bool contains(const std::string& name) const { return by_name_.count(name) > 0; }
  // The tensor called `name`; throws naming it when the model has no such parameter. Marks it used.
  const Tensor& at(const std::string& name);
  // Names never asked for with at(), in state-dict order.
  std::vector<std::string> unused() const;

 private:
  std::vector<std::string> order_;
  std::map<std::string, const Tensor*> by_name_;
  std::set<std::string> used_;
};

// nn.Linear "<module>.weight" (out, in), "<module>.bias" (out): y = x·Wᵀ + b over the last axis (bias optional).
std::string onnx_linear(OnnxGraph& g, NamedWeights& w, const std::string& module, const std::string& x,
                        bool bias = true);
// GPT-2 Conv1D "<module>.weight" (in, out), "<module>.bias" (out): y = x·W + b.
std::string onnx_conv1d(OnnxGraph& g, NamedWeights& w, const std::string& module, const std::string& x);
// torch.nn.LayerNorm "<module>.weight"/".bias" over the last axis: (x − mean)/√(var + eps)·γ + β (biased variance).
std::string onnx_layer_norm(OnnxGraph& g, NamedWeights& w, const std::string& module, const std::string& x,
                            float eps);
// y = f(x) elementwise, f as ops/activation.h (GELU in its exact erf form x·½(1 + erf(x/√2)), not a tanh fit).
std::string onnx_activation(OnnxGraph& g, Activation act, const std::string& x, const std::string& stem);

// The additive key mask of ops/attention_softmax.h from the (B, T) int64 attention_mask input:
// (1 − mask)·finfo(float32).min, shaped (B, 1, 1, T) to broadcast over heads and query positions.
std::string onnx_additive_key_mask(OnnxGraph& g, const std::string& attention_mask);

// Scaled dot-product attention (nn/attention_core.h) of q, k, v (B, T, NH·D) already projected:
//   S = Q·Kᵀ / scale_divisor  (B, NH, T, T);  P = softmax(S + mask_add);  context = merge_heads(P·V)  (B, T, NH·D)
// mask_add broadcasts to (B, NH, T, T).
std::string onnx_attention(OnnxGraph& g, const std::string& q, const std::string& k, const std::string& v,
                           const std::string& mask_add, int64_t NH, int64_t D, float scale_divisor,
                           const std::string& stem);

// T = input.shape[axis] as an int64 scalar.
std::string onnx_dim(OnnxGraph& g, const std::string& input, int64_t axis, const std::string& stem);
// [0, 1, …, n − 1] (int64) for an int64 scalar n.
std::string onnx_range(OnnxGraph& g, const std::string& n, const std::string& stem);
// x[:, index] for x (B, T, H) → (B, H).
std::string onnx_token_at(OnnxGraph& g, const std::string& x, int64_t index, const std::string& stem);

}  // namespace accent
