#include "io/shard_index.h"

#include <set>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"

namespace accent {

std::vector<std::string> ShardIndex::shard_files() const {
  std::set<std::string> files;
  for (const auto& [name, file] : weight_map) files.insert(file);
  return {files.begin(), files.end()};
}

ShardIndex read_shard_index(const std::string& index_path) {
  return shard_index_from_json(read_json_file(index_path), index_path);
}

ShardIndex shard_index_from_json(const nlohmann::json& index, const std::string& index_path) {
  if (!index.is_object() || !index.contains("weight_map") || !index["weight_map"].is_object())
    fail(index_path, ": missing \"weight_map\" object");
  ShardIndex out;
  for (const auto& [name, shard] : index["weight_map"].items()) {
    if (!shard.is_string()) fail(index_path, ": weight_map[\"", name, "\"] must be a file name");
    const std::string file = shard.get<std::string>();
    if (file.find('/') != std::string::npos || file == ".." || file.empty())
      fail(index_path, ": weight_map[\"", name, "\"] = \"", file, "\" is not a file in the directory");
    out.weight_map[name] = file;
  }
  return out;
}

}  // namespace accent
