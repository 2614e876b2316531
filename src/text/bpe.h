// text/bpe.h — BPE model (spec tokenizers.md §2.3; tokenizers/src/models/bpe/{model,word}.rs).
//
// A word starts as one symbol per character (continuing_subword_prefix on all but the first, end_of_word_suffix
// on the last); merges are applied lowest rank first, leftmost first among equal ranks, through a min-heap of
// candidate pairs exactly like HF's Word::merge_all. Results are cached per word (per thread).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/string_map.h"

namespace accent::text {

struct BpeOptions {
  std::optional<std::string> unk_token;
  std::optional<std::string> continuing_subword_prefix;  // "" and null behave the same
  std::optional<std::string> end_of_word_suffix;
  bool fuse_unk = false;
  bool byte_fallback = false;
  bool ignore_merges = false;
  std::optional<double> dropout;  // only null/0 supported (dropout is a training-time augmentation)
};

class Bpe {
 public:
  Bpe(std::vector<std::pair<std::string, int32_t>> vocab, std::vector<std::pair<std::string, std::string>> merges,
      BpeOptions options);

  // Appends the ids of one word (valid UTF-8; for byte-level models already mapped by bytes_to_unicode). With
  // `lengths`, also appends each token's length in bytes of the word (HF Word::get_offsets: the symbols'
  // lengths summed left to right, so a dropped unknown character shifts the offsets after it, as in HF).
  void tokenize(std::string_view word, std::vector<int32_t>& ids, std::vector<uint32_t>* lengths = nullptr) const;

  int32_t token_to_id(std::string_view token) const { return vocab_.find(token); }
  const std::string* id_to_token(int32_t id) const;
  size_t vocab_size() const { return vocab_.size(); }
  const std::vector<std::pair<std::string, std::string>>& merges() const { return merges_; }
  const BpeOptions& options() const { return options_; }
  // (token, id) sorted by id.
  std::vector<std::pair<std::string, int32_t>> vocab_by_id() const;

 private:
  struct MergeValue {
    uint32_t rank;
    int32_t new_id;
  };
  // Open-addressing map (left id, right id) → merge.
  struct MergeMap {
    std::vector<uint64_t> keys;  // ~0 = empty
    std::vector<MergeValue> values;
    uint64_t mask = 0;
    void build(const std::vector<std::pair<uint64_t, MergeValue>>& entries);
    const MergeValue* find(int32_t left, int32_t right) const;
  };

  void merge_word(std::string_view word, std::vector<int32_t>& ids, std::vector<uint32_t>* lengths) const;

  StringIdMap vocab_;
  std::vector<std::string> tokens_by_id_;
  std::vector<uint8_t> has_token_;
  std::vector<std::pair<std::string, std::string>> merges_;
  MergeMap merge_map_;
  BpeOptions options_;
  std::string prefix_, suffix_;
  std::vector<int32_t> small_char_id_;  // id of the one-char token for code points < 0x180 (no prefix/suffix)
  uint64_t cache_owner_;                // identifies this model's entries in the per-thread word cache
};

}  // namespace accent::text
