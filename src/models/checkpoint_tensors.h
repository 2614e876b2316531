// models/checkpoint_tensors.h — the weight tensors of a Hugging Face model directory, whatever the file format.
//
// Format choice (transformers from_pretrained, spec checkpoints.md §2): model.safetensors or its sharded index
// wins when present; otherwise pytorch_model.bin or pytorch_model.bin.index.json + shards, read by the restricted
// unpickler of io/torch_bin.h (nothing executed). A .bin checkpoint is read into memory whole; safetensors tensors
// are read on demand.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/safetensors.h"

namespace accent {

class CheckpointTensors {
 public:
  // Throws naming `dir` when it has neither format.
  static CheckpointTensors open_dir(const std::string& dir);
  // True when `dir` holds weights in either format.
  static bool exists_in(const std::string& dir);
  // Tensors of an in-memory state dict (tests, converters).
  static CheckpointTensors from_tensors(std::map<std::string, Tensor> tensors, std::string origin);

  const std::string& format() const { return format_; }  // "safetensors" or "pytorch_model.bin"
  std::vector<std::string> names() const;  // sorted
  Shape shape(const std::string& name) const;
  Tensor load_f32(const std::string& name) const;
  // The tensor in the dtype it is stored in (an int8 layer's I8 weight, models/int8_quantization.h).
  Tensor load_stored(const std::string& name) const;

 private:
  std::string format_;
  std::optional<SafetensorsCheckpoint> safetensors_;
  std::map<std::string, Tensor> in_memory_;
};

}  // namespace accent
