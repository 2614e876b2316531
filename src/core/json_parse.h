// core/json_parse.h — the one path by which accent parses JSON text it did not write itself: data rows (JSONL,
// JSON arrays, JSON label cells), config.json, tokenizer.json, tokenizer_config.json, special_tokens_map.json,
// vocab.json, adapter_config.json, training_args.json, checkpoint state, shard indexes, safetensors headers.
//
// Why a depth limit: nlohmann builds the tree without recursion, but copying a value, comparing two, dump() and
// the readers that walk the tree recurse once per level, so a data row of 100,000 `[` overflowed the stack
// (a segfault, not an error). The limit is enforced while parsing — the parse stops at the first container
// past the limit, so a hostile file never builds a deep tree at all. 128 is serde_json's default recursion limit,
// which the Rust readers of Hugging Face (tokenizers, safetensors) apply to the same files; no real file comes
// near it.
#pragma once
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace accent {

constexpr int kMaxJsonDepth = 128;

struct JsonParseOptions {
  int max_depth = kMaxJsonDepth;      // containers nested deeper than this are an error
  bool reject_duplicate_keys = false;  // nlohmann silently keeps the last of two equal keys; some formats forbid it
};

// Parses `text`; throws accent::Error "<origin>: not valid JSON (…)", "<origin>: JSON nests deeper than N levels"
// or "<origin>: a JSON object has the key "k" twice". `origin` names the file (and line or record).
nlohmann::json parse_json(std::string_view text, const std::string& origin, const JsonParseOptions& options = {});
// Same, keeping the keys of every object in file order (data rows, tokenizer decoder blocks).
nlohmann::ordered_json parse_ordered_json(std::string_view text, const std::string& origin,
                                          const JsonParseOptions& options = {});
// read_file(path) then parse_json(…, path).
nlohmann::json read_json_file(const std::string& path, const JsonParseOptions& options = {});

}  // namespace accent
