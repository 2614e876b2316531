#include "models/checkpoint_tensors.h"

#include <algorithm>
#include <filesystem>

#include "core/error.h"
#include "io/torch_bin.h"

namespace accent {

namespace {
bool has_file(const std::string& dir, const char* name) { return std::filesystem::exists(std::filesystem::path(dir) / name); }
bool has_safetensors(const std::string& dir) {
  return has_file(dir, "model.safetensors") || has_file(dir, "model.safetensors.index.json");
}
bool has_torch_bin(const std::string& dir) {
  return has_file(dir, "pytorch_model.bin") || has_file(dir, "pytorch_model.bin.index.json");
}
}  // namespace

bool CheckpointTensors::exists_in(const std::string& dir) { return has_safetensors(dir) || has_torch_bin(dir); }

CheckpointTensors CheckpointTensors::open_dir(const std::string& dir) {
  CheckpointTensors c;
  if (has_safetensors(dir) || !has_torch_bin(dir)) {  // the safetensors reader names what is missing
    c.format_ = "safetensors";
    c.safetensors_ = SafetensorsCheckpoint::open_dir(dir);
  } else {
    c.format_ = "pytorch_model.bin";
    c.in_memory_ = load_torch_bin_dir(dir);
  }
  return c;
}

CheckpointTensors CheckpointTensors::from_tensors(std::map<std::string, Tensor> tensors, std::string origin) {
  CheckpointTensors c;
  c.format_ = std::move(origin);
  c.in_memory_ = std::move(tensors);
  return c;
}

std::vector<std::string> CheckpointTensors::names() const {
  if (safetensors_) {
    std::vector<std::string> n = safetensors_->names();
    std::sort(n.begin(), n.end());
    return n;
  }
  std::vector<std::string> n;
  for (const auto& [name, t] : in_memory_) n.push_back(name);
  return n;
}

Shape CheckpointTensors::shape(const std::string& name) const {
  if (safetensors_) return safetensors_->entry(name).shape;
  auto it = in_memory_.find(name);
  ACCENT_CHECK(it != in_memory_.end(), format_, ": no tensor named ", name);
  return it->second.shape();
}

Tensor CheckpointTensors::load_f32(const std::string& name) const {
  if (safetensors_) return safetensors_->load(name, DType::F32);
  auto it = in_memory_.find(name);
  ACCENT_CHECK(it != in_memory_.end(), format_, ": no tensor named ", name);
  return it->second.dtype() == DType::F32 ? it->second : it->second.to(DType::F32);
}

Tensor CheckpointTensors::load_stored(const std::string& name) const {
  if (safetensors_) {
    const SafetensorsEntry& e = safetensors_->entry(name);
    ACCENT_CHECK(e.has_core_dtype, format_, ": tensor ", name, " has dtype ", e.dtype_string,
                 ", which accent does not hold as it is");
    return safetensors_->load(name, e.dtype);
  }
  auto it = in_memory_.find(name);
  ACCENT_CHECK(it != in_memory_.end(), format_, ": no tensor named ", name);
  return it->second;
}

}  // namespace accent
