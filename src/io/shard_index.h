// io/shard_index.h — the index file of a sharded checkpoint (model.safetensors.index.json,
// pytorch_model.bin.index.json): {"metadata": {...}, "weight_map": {"<tensor name>": "<shard file>"}}.
#pragma once
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace accent {

struct ShardIndex {
  std::map<std::string, std::string> weight_map;  // tensor name → shard file name (in the index's directory)
  // Distinct shard files in name order.
  std::vector<std::string> shard_files() const;
};

// Reads and validates an index: valid JSON, a "weight_map" object whose values are plain file names (no '/',
// not "..", not empty). Unknown keys (newer metadata) are ignored. Errors name the file and the entry.
ShardIndex read_shard_index(const std::string& index_path);
// Same, from the parsed file; `origin` names it in errors.
ShardIndex shard_index_from_json(const nlohmann::json& index, const std::string& origin);

}  // namespace accent
