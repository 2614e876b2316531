// io/safetensors.h — read (mmap) and write the safetensors format (spec: the shared spec, spec/checkpoints.md §1).
//
// Layout: [u64 LE header length N][N bytes JSON header][data buffer]. Tensors tile the buffer exactly.
#pragma once
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/tensor.h"

namespace accent {

// One tensor entry of an opened file: its bytes live in the mapping (valid while the SafetensorsFile lives).
struct SafetensorsEntry {
  std::string name;
  DType dtype;
  Shape shape;
  const void* data;  // points into the mmap (or the from_bytes copy)
  size_t nbytes;
  // The file's dtype string ("F32", "F8_E4M3", ...). Types without a core DType (F8*, F6*, F4, C64) have
  // has_core_dtype = false and `dtype` = U8 (raw bytes); load() decodes the F8 types and refuses the others.
  std::string dtype_string;
  bool has_core_dtype = true;
};

class SafetensorsFile {
 public:
  // mmaps and validates `path`; throws accent::Error naming the file and the problem.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);
  // Validates a safetensors image held in memory (copied; `origin` names it in errors). Same checks as open().
  static std::shared_ptr<SafetensorsFile> from_bytes(std::string_view bytes, const std::string& origin);
  ~SafetensorsFile();

  const std::string& path() const { return path_; }
  const std::map<std::string, std::string>& metadata() const { return metadata_; }
  // Names in file (offset) order.
  const std::vector<std::string>& names() const { return names_; }
  bool contains(const std::string& name) const { return entries_.count(name) != 0; }
  const SafetensorsEntry& entry(const std::string& name) const;
  // Copies the tensor out, converted to `dtype` (F32 by default).
  Tensor load(const std::string& name, DType dtype = DType::F32) const;
  // Sum of all tensor byte sizes (= the data buffer's size).
  size_t data_bytes() const { return data_bytes_; }

 private:
  SafetensorsFile() = default;
  void parse(const char* bytes, size_t size);  // validates the mapped image, fills the entries
  size_t data_bytes_ = 0;
  std::string path_;
  void* map_ = nullptr;
  size_t map_size_ = 0;
  std::unique_ptr<char[]> owned_;  // the image when read with from_bytes (exactly its size)
  std::map<std::string, std::string> metadata_;
  std::vector<std::string> names_;
  std::map<std::string, SafetensorsEntry> entries_;
};

// Writes tensors (name → tensor, any dtype) atomically with `__metadata__` (default {"format":"pt"}), header
// padded with spaces to a multiple of 8, tensors laid out as the reference writer does.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {{"format", "pt"}});
// The exact bytes save_safetensors writes (header + data).
std::string safetensors_bytes(const std::map<std::string, Tensor>& tensors,
                              const std::map<std::string, std::string>& metadata = {{"format", "pt"}});

// Tensors in state-dict order (the order HF's shard splitting walks).
using NamedTensors = std::vector<std::pair<std::string, Tensor>>;
// "5GB" → 5'000'000'000, "500MB", "10KB", "1GiB"/"1MiB"/"1KiB" (powers of 2), or plain bytes "1000000" — as
// transformers' convert_file_size_to_int. Throws on anything else.
uint64_t parse_shard_size(const std::string& text);
// save_pretrained's weights: one `model.safetensors` when everything fits in `max_shard_size`, otherwise
// `model-0000k-of-0000n.safetensors` + `model.safetensors.index.json` ({"metadata":{"total_size":…},
// "weight_map":{…}}, json indent 2, sorted keys). Shards are filled like huggingface_hub's
// split_state_dict_into_shards: walk in order, start a new shard when the next tensor would overflow, a tensor
// larger than the limit gets a shard of its own. Shard files of an earlier save that are not rewritten (and a stale
// index when saving a single file) are removed. Returns the file names written (index last).
std::vector<std::string> save_safetensors_checkpoint(const std::string& dir, const NamedTensors& tensors,
                                                     uint64_t max_shard_size = 5'000'000'000ull,
                                                     const std::map<std::string, std::string>& metadata = {
                                                         {"format", "pt"}});

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
