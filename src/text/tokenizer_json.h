// text/tokenizer_json.h — reading and writing HF tokenizer.json (serialization "1.0", spec tokenizers.md §4).
// Supported components: normalizer BertNormalizer | NFC | NFD | NFKC | NFKD | Lowercase | StripAccents | Strip |
// Replace (String, or the Regex " {2,}") | Prepend | Precompiled | Sequence of these; pre_tokenizer
// BertPreTokenizer | ByteLevel | Metaspace | Sequence[Split{Llama-3 or Qwen2 regex, Isolated}, ByteLevel{use_regex
// false}] | Sequence[one of these]; model WordPiece | BPE (merges as "a b" strings or ["a","b"] pairs) | Unigram;
// post_processor TemplateProcessing | BertProcessing | RobertaProcessing | ByteLevel | Sequence; decoder kept
// verbatim (text/decoder.h reads it). Anything else is an error naming the component, so an unsupported
// tokenizer never tokenizes silently wrong.
#pragma once
#include <nlohmann/json.hpp>
#include <string>

#include "text/tokenizer_state.h"

namespace accent::text {

// Parses tokenizer.json text into the pipeline part of a state (settings are left default).
// `source` names the file in error messages.
void read_tokenizer_json(const std::string& json_text, const std::string& source, TokenizerState& state);

// Serializes the pipeline as tokenizers' save(pretty=true) does (key order of §4; truncation/padding null).
nlohmann::ordered_json tokenizer_json(const TokenizerState& state);

// JSON helpers shared with the pretrained-directory code.
// A token id read from a JSON file: an integer in 0..2^31-1, else accent::Error naming `where` and the token.
int32_t parse_token_id(const nlohmann::json& v, const std::string& token, const std::string& where);
nlohmann::ordered_json added_token_json(const AddedToken& t);  // content, single_word, lstrip, rstrip, normalized, special
AddedToken parse_added_token(const nlohmann::json& j, bool default_special, const std::string& source);
PostProcessor parse_post_processor(const nlohmann::json& j, const std::string& source);
nlohmann::ordered_json post_processor_json(const PostProcessor& p);

}  // namespace accent::text
