// io/tokenizer_location.h — where a caller that only needs a tokenizer (`tokenize`, `data`, the public API) finds
// it: an existing directory or bare tokenizer.json as given, otherwise a Hugging Face hub id resolved in (and
// downloaded into) the HF cache.
#pragma once
#include <filesystem>
#include <string>

#include "io/hub.h"
#include "io/model_dir_save.h"

namespace accent {

inline std::string tokenizer_location(const std::string& path_or_id) {
  if (std::filesystem::is_directory(path_or_id)) recover_interrupted_save(path_or_id);  // io/model_dir_save.h
  if (std::filesystem::exists(path_or_id)) return path_or_id;
  return resolve_pretrained(path_or_id, {"config.json", "tokenizer.json", "vocab.txt", "vocab.json", "merges.txt",
                                         "tokenizer_config.json", "special_tokens_map.json"});
}

}  // namespace accent
