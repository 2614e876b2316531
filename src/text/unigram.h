// text/unigram.h — the Unigram model of SentencePiece as Hugging Face tokenizers runs it
// (tokenizers/src/models/unigram/model.rs, encode_optimized): per word, the segmentation into vocabulary pieces
// with the highest total score (log probability), found by Viterbi over byte positions:
//   best[0] = 0; for each character start s (left to right), for each piece p that is a prefix of word[s..]:
//     best[s+|p|] takes best[s] + score(p) when it has no path yet or the candidate is strictly greater;
//   a character no single-character piece covers gets the unknown piece with score min_score − 10.
// The best path is read back from the end; consecutive unknown pieces are fused into one (fuse_unk, always on).
// A piece string not in the vocabulary (a fused unknown) becomes, with byte_fallback, one <0xXX> token per byte
// when all exist (each covering the whole string), else the unknown id.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "text/span.h"
#include "text/string_map.h"

namespace accent::text {

class Unigram {
 public:
  // vocab: (piece, score) in id order. unk_id: the unknown piece's id (required when a character is not
  // covered; tokenizers errors then without one).
  Unigram(std::vector<std::pair<std::string, double>> vocab, std::optional<int32_t> unk_id, bool byte_fallback);

  // Appends the ids of one word (valid UTF-8); with `spans`, each token's [begin, end) bytes in the word.
  void tokenize(std::string_view word, std::vector<int32_t>& ids, std::vector<Span>* spans = nullptr) const;

  int32_t token_to_id(std::string_view token) const { return ids_.find(token); }
  const std::string* id_to_token(int32_t id) const;
  size_t vocab_size() const { return vocab_.size(); }
  const std::vector<std::pair<std::string, double>>& vocab() const { return vocab_; }
  std::optional<int32_t> unk_id() const { return unk_id_; }
  bool byte_fallback() const { return byte_fallback_; }

 private:
  std::vector<std::pair<std::string, double>> vocab_;
  StringIdMap ids_;
  std::optional<int32_t> unk_id_;
  bool byte_fallback_;
  double min_score_;
  size_t max_piece_bytes_ = 0;
  int32_t byte_ids_[256];  // <0xXX> ids, -1 when absent
};

}  // namespace accent::text
