// export/onnx_export.h — `accent export`: a saved classifier as an ONNX graph, laid out as Hugging Face optimum
// writes it (`optimum-cli export onnx --task text-classification`): <output>/onnx/model.onnx with the inputs
// input_ids, attention_mask (and token_type_ids for BERT and ELECTRA), int64 (batch_size, sequence_length), and the
// output logits, float32 (batch_size, num_labels).
//
// The weights are the ones `accent predict` answers with: the model is loaded by models/registry.h (a LoRA adapter
// directory is loaded with its base and merged first, PEFT merge_and_unload), and every one of its parameters must
// end up in the graph (an unused parameter is an error: the graph would compute something else). The graph is
// written with the ONNX project's protobuf schema and passes onnx::checker::check_model.
//
// Size: one protobuf file holds at most 2 GiB. Weights beyond kInlineWeightLimit (or any weights with
// external_data) go to <output>/onnx/model.onnx_data as ONNX external data (TensorProto.data_location = EXTERNAL,
// external_data {location, offset, length}), each tensor aligned to 4096 bytes as onnx.save_model does for mmap.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include <onnx/onnx_pb.h>

#include "models/classifier.h"

namespace accent {

// The most weight bytes kept inside model.onnx (protobuf's 2 GiB message limit, less room for the graph).
constexpr uint64_t kInlineWeightLimit = (uint64_t{2} << 30) - (uint64_t{64} << 20);

struct OnnxExportOptions {
  int64_t opset = 17;          // LayerNormalization needs 17; at most what the ONNX library knows
  // fp32 | fp16: fp16 stores the weights as FLOAT16 (half the file) and casts them to fp32 in the graph, so the
  // graph still computes in fp32 and runs on every runtime; the logits move by the weights' rounding (~1e-3).
  std::string dtype = "fp32";
  bool external_data = false;  // weights to model.onnx_data even when they would fit inline
  bool offline = false;        // hub ids and adapter bases from the cache only
  std::string base_model;      // an adapter's base model (default: adapter_config.json base_model_name_or_path)
};

struct OnnxExportResult {
  std::string model_path;        // <output>/onnx/model.onnx
  std::string external_data_path;  // <output>/onnx/model.onnx_data, or "" when the weights are inline
  std::string family;            // "bert", "roberta", ...
  std::vector<std::string> inputs;
  int64_t num_labels = 0;
  uint64_t weight_bytes = 0;
  int64_t nodes = 0;
};

// The ONNX model of a loaded classifier (weights inline as raw fp32 initializers, or fp16 ones cast to fp32).
// `inputs` receives the graph's input names. Throws for a family without an exporter or when a parameter of the
// model is not in the graph.
onnx::ModelProto onnx_model_for(SequenceClassifier& model, int64_t opset, std::vector<std::string>* inputs = nullptr,
                                bool fp16_weights = false);

// Loads `model_dir` (a model directory, hub id or LoRA adapter directory), builds its graph, writes
// <output_dir>/onnx/model.onnx (and model.onnx_data), and checks the written model with ONNX's checker. An empty
// output_dir means model_dir (which must then be a local directory). When output_dir is another directory it also
// receives config.json and the tokenizer files, so that it loads on its own (transformers.js, optimum).
OnnxExportResult export_onnx(const std::string& model_dir, const std::string& output_dir,
                             const OnnxExportOptions& options);

}  // namespace accent
