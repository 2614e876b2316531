// text/wordpiece.h — WordPiece model (greedy longest-match-first; spec tokenizers.md §1.5,
// tokenizers/src/models/wordpiece/mod.rs).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/span.h"
#include "text/string_map.h"

namespace accent::text {

class WordPiece {
 public:
  // vocab: tokens in id order is not required; ids are explicit.
  WordPiece(std::vector<std::pair<std::string, int32_t>> vocab, std::string unk_token,
            std::string continuing_subword_prefix = "##", int64_t max_input_chars_per_word = 100);

  // Appends the ids of one pre-tokenized word (valid UTF-8, non-empty). With `spans`, also appends each
  // token's [begin, end) bytes in the word (a "##" piece covers its text without the prefix; [UNK] the word).
  void tokenize(std::string_view word, std::vector<int32_t>& ids, std::vector<Span>* spans = nullptr) const;

  int32_t token_to_id(std::string_view token) const { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const;
  size_t vocab_size() const { return vocab_.size(); }
  std::vector<std::pair<std::string, int32_t>> vocab_by_id() const;  // sorted by id
  const std::string& unk_token() const { return unk_token_; }
  const std::string& continuing_subword_prefix() const { return prefix_; }
  int64_t max_input_chars_per_word() const { return max_chars_; }

 private:
  StringIdMap vocab_;         // every token
  StringIdMap continuation_;  // tokens that start with the prefix, keyed without it
  std::vector<std::string> tokens_by_id_;
  std::vector<uint8_t> has_token_;
  std::string unk_token_, prefix_;
  int64_t max_chars_;
  size_t max_token_bytes_ = 0;  // longest key in either map: longer candidates cannot match
};

}  // namespace accent::text
