// io/safetensors.h — read (mmap) and write the safetensors format (spec: ../shared/spec/checkpoints.md §1).
//
// Layout: [u64 LE header length N][N bytes JSON header][data buffer]. Tensors tile the buffer exactly.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace accent {

// One tensor entry of an opened file: its bytes live in the mapping (valid while the SafetensorsFile lives).
struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
  const void* data;  // points into the mmap
  size_t nbytes;
};

class SafetensorsFile {
 public:
  // mmaps and validates `path`; throws accent::Error naming the file and the problem.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Names in file (offset) order.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  // Copies the tensor out, converted to `dtype` (F32 by default).
  Tensor load(const std::string& name, DType dtype = DType::F32) const;

 private:
  SafetensorsFile() = default;
  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::map<std::string, std::string> metadata_;
  std::vector<std::string> names_;
  std::map<std::string, SafetensorsEntry> entries_;
};

// Writes tensors (name → tensor, any dtype) atomically with `__metadata__` (default {"format":"pt"}), header
// padded with spaces to a multiple of 8, tensors laid out as the reference writer does.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// A checkpoint directory's weights, whether one file or sharded with model.safetensors.index.json.
// Throws when neither model.safetensors nor the index exists in `dir`.
class SafetensorsCheckpoint {
 public:
  static SafetensorsCheckpoint open_dir(const std::string& dir);
  std::vector<std::string> names() const;
  bool contains(const std::string& name) const;
  const SafetensorsEntry& entry(const std::string& name) const;
  Tensor load(const std::string& name, DType dtype = DType::F32) const;

 private:
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // tensor name → index into files_
};

}  // namespace accent
