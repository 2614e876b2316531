// text/added_vocabulary.h — tokens added on top of the model vocabulary (special tokens such as [CLS], or
// user-added words), found in the input before normalization (normalized=false) or in each normalized piece
// (normalized=true). Matching is leftmost-longest, like HF's Aho-Corasick with MatchKind::LeftmostLongest
// (tokenizers/src/tokenizer/added_vocabulary.rs), including single_word / lstrip / rstrip.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "text/string_map.h"

namespace accent::text {

struct AddedToken {
  std::string content;
  bool single_word = false;
  bool lstrip = false;
  bool rstrip = false;
  bool normalized = true;  // HF default for non-special tokens; special tokens are usually false
  bool special = false;
};

// One piece of a split: either text (token_id < 0) or a matched added token. Offsets are bytes into the
// string that was split.
struct AddedSplit {
  uint32_t begin, end;
  int32_t token_id;
};

// A set of patterns matched leftmost-longest.
class AddedTokenMatcher {
 public:
  void build(std::vector<std::string> patterns, std::vector<int32_t> ids, std::vector<AddedToken> tokens);
  bool empty() const { return patterns_.empty(); }
  // Splits `text` like HF AddedVocabulary::find_matches; the splits cover the text (empty text: no splits).
  void split(std::string_view text, std::vector<AddedSplit>& out) const;

 private:
  std::vector<std::string> patterns_;
  std::vector<int32_t> ids_;
  std::vector<AddedToken> tokens_;  // flags (single_word, lstrip, rstrip) of each pattern's token
  std::vector<std::vector<uint32_t>> by_first_byte_;  // pattern indices, longest first
  bool first_byte_[256] = {};
};

class AddedVocabulary {
 public:
  // Adds tokens like HF add_tokens/add_special_tokens: a token already in the vocabulary (model or added)
  // keeps that id; a new one gets max(added id) + 1, or the model size if no added id is >= it.
  // Call rebuild_matchers() after the last add().
  void add(const std::vector<AddedToken>& tokens, const std::function<int32_t(std::string_view)>& model_token_to_id,
           size_t model_vocab_size);
  // `normalize` (may be empty) gives the form of normalized=true tokens that is searched in normalized text.
  void rebuild_matchers(const std::function<std::string(std::string_view)>& normalize,
                        const std::function<int32_t(std::string_view)>& model_token_to_id);

  int32_t token_to_id(std::string_view content) const { return by_content_.find(content); }
  const AddedToken* token_for_id(int32_t id) const;
  bool is_special(std::string_view content) const;
  // (id, token) sorted by id, as tokenizer.json lists them.
  std::vector<std::pair<int32_t, AddedToken>> sorted_by_id() const;
  size_t size() const { return entries_.size(); }

  const AddedTokenMatcher& raw_matcher() const { return raw_matcher_; }
  const AddedTokenMatcher& normalized_matcher() const { return normalized_matcher_; }

 private:
  struct Entry {
    int32_t id;
    AddedToken token;
  };
  std::vector<Entry> entries_;  // one per id
  StringIdMap by_content_;
  std::vector<AddedToken> order_special_, order_plain_;  // insertion order (HF: special first when matching)
  AddedTokenMatcher raw_matcher_, normalized_matcher_;
};

}  // namespace accent::text
