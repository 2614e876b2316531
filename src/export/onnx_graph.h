// export/onnx_graph.h — a small writer of ONNX graphs over the ONNX project's own protobuf schema (onnx-ml.pb.h):
// named values in, nodes that produce fresh named values out, weights as fp32 initializers. The model exporters
// (export/onnx_encoder_graph.cpp, export/onnx_gpt2_graph.cpp) spell the math of models/ with it, one node per
// tensor operation, so that a graph reads like the forward pass it mirrors.
//
// Conventions: every value is a string name in the graph; op helpers return the name of their (single) output,
// made unique from a readable stem ("bert.encoder.layer.0/attention/scores"). Tensors are (B, T, ...) with B and T
// the dynamic axes "batch_size" and "sequence_length" (the names optimum writes).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "core/tensor.h"

namespace accent {

struct OnnxAttribute {
  std::string name;
  enum class Kind { Int, Float, Ints } kind = Kind::Int;
  int64_t i = 0;
  float f = 0.0f;
  std::vector<int64_t> ints;
  static OnnxAttribute integer(std::string name, int64_t v) { return {std::move(name), Kind::Int, v, 0.0f, {}}; }
  static OnnxAttribute real(std::string name, float v) { return {std::move(name), Kind::Float, 0, v, {}}; }
  static OnnxAttribute integers(std::string name, std::vector<int64_t> v) {
    return {std::move(name), Kind::Ints, 0, 0.0f, std::move(v)};
  }
};

class OnnxGraph {
 public:
  // `fp16_weights`: parameters are stored as FLOAT16 initializers (half the file) and Cast to fp32 where they are
  // used, so every node still computes in fp32 (and runs on every ONNX Runtime backend, CPU included).
  explicit OnnxGraph(onnx::GraphProto* graph, bool fp16_weights = false) : graph_(graph), fp16_weights_(fp16_weights) {}

  // Graph inputs/outputs. dims: a number, or -1 for a dynamic axis named by `dim_names` at the same position.
  void add_input(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims,
                 const std::vector<std::string>& dim_names);
  void add_output(const std::string& name, int32_t elem_type, const std::vector<int64_t>& dims,
                  const std::vector<std::string>& dim_names);

  // An initializer holding `value` (any shape), under `name` (kept as is: HF names stay readable); returns the
  // fp32 value to use (the initializer itself, or its Cast when weights are stored as fp16).
  std::string weight(const std::string& name, const Tensor& value);
  // An fp32 initializer holding value (out, in) transposed to (in, out): nn.Linear's y = x·Wᵀ + b as MatMul(x, Wᵀ).
  std::string weight_transposed(const std::string& name, const Tensor& value);
  // Constants (initializers) of the given values; shape {} = a scalar, else {values.size()} unless given.
  std::string constant_f32(const std::string& stem, float value);
  std::string constant_i64(const std::string& stem, const std::vector<int64_t>& values, bool scalar = false);

  // One node `op` (default ONNX domain) with these inputs and attributes; returns its output's name.
  std::string op(const std::string& op_type, const std::vector<std::string>& inputs, const std::string& stem,
                 const std::vector<OnnxAttribute>& attributes = {});
  // The same node writing to a given output name (a graph output such as "logits").
  void op_into(const std::string& op_type, const std::vector<std::string>& inputs, const std::string& output,
               const std::vector<OnnxAttribute>& attributes = {});

  // Total bytes of the initializers written so far.
  uint64_t initializer_bytes() const { return initializer_bytes_; }

 private:
  std::string fresh(const std::string& stem);
  onnx::GraphProto* graph_;
  bool fp16_weights_ = false;
  uint64_t initializer_bytes_ = 0;
  int64_t counter_ = 0;
};

}  // namespace accent
