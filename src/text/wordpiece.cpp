// text/wordpiece.cpp — see wordpiece.h.
//
// HF builds "##" + substring for every candidate; here the continuation tokens live in their own map keyed
// without the prefix, so a candidate is a plain string_view into the word (no allocation).
#include "text/wordpiece.h"

#include "core/error.h"
#include "text/unicode.h"

namespace accent::text {

WordPiece::WordPiece(std::vector<std::pair<std::string, int32_t>> vocab, std::string unk_token,
                     std::string continuing_subword_prefix, int64_t max_input_chars_per_word)
    : unk_token_(std::move(unk_token)), prefix_(std::move(continuing_subword_prefix)),
      max_chars_(max_input_chars_per_word) {
  int32_t max_id = -1;
  for (const auto& [token, id] : vocab) {
    ACCENT_CHECK(id >= 0, "WordPiece vocab: negative id ", id, " for token '", token, "'");
    max_id = std::max(max_id, id);
  }
  tokens_by_id_.assign(static_cast<size_t>(max_id + 1), std::string());
  for (auto& [token, id] : vocab) {
    vocab_.set(token, id);
    if (!prefix_.empty() && token.size() >= prefix_.size() && token.compare(0, prefix_.size(), prefix_) == 0)
      continuation_.set(std::string_view(token).substr(prefix_.size()), id);
    max_token_bytes_ = std::max(max_token_bytes_, token.size());
    tokens_by_id_[id] = std::move(token);
  }
  // A later duplicate token moved to a new id: its old id has no token any more (as in HF's vocab_r).
  has_token_.assign(tokens_by_id_.size(), 0);
  for (size_t id = 0; id < tokens_by_id_.size(); ++id)
    has_token_[id] = vocab_.find(tokens_by_id_[id]) == static_cast<int32_t>(id);
}

const std::string* WordPiece::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= tokens_by_id_.size()) return nullptr;
  return has_token_[id] ? &tokens_by_id_[id] : nullptr;
}

std::vector<std::pair<std::string, int32_t>> WordPiece::vocab_by_id() const {
  std::vector<std::pair<std::string, int32_t>> out;
  out.reserve(vocab_.size());
  for (size_t id = 0; id < tokens_by_id_.size(); ++id)
    if (has_token_[id]) out.emplace_back(tokens_by_id_[id], static_cast<int32_t>(id));
  return out;
}

void WordPiece::tokenize(std::string_view word, std::vector<int32_t>& ids, std::vector<Span>* spans) const {
  const size_t first_span = spans ? spans->size() : 0;
  auto push_unk = [&]() {
    const int32_t unk = vocab_.find(unk_token_);
    ACCENT_CHECK(unk >= 0, "WordPiece: unk_token '", unk_token_, "' is not in the vocabulary");
    ids.push_back(unk);
    if (spans) spans->push_back({0, static_cast<uint32_t>(word.size())});
  };
  if (static_cast<int64_t>(count_code_points(word)) > max_chars_) {
    push_unk();
    return;
  }
  const size_t first_new = ids.size();
  const StringIdMap& continuation = prefix_.empty() ? vocab_ : continuation_;
  size_t start = 0;
  while (start < word.size()) {
    const StringIdMap& map = start == 0 ? vocab_ : continuation;
    // Longest candidate first; skip ends that make the piece longer than any vocabulary entry.
    size_t end = word.size();
    if (end - start > max_token_bytes_) {
      end = start + max_token_bytes_;
      while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) --end;  // char boundary
    }
    int32_t found = -1;
    while (end > start) {
      found = map.find(word.substr(start, end - start));
      if (found >= 0) break;
      do --end;
      while (end > start && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80);
    }
    if (found < 0) {  // no piece matches here: the whole word is one unknown token
      ids.resize(first_new);
      if (spans) spans->resize(first_span);
      push_unk();
      return;
    }
    ids.push_back(found);
    if (spans) spans->push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(end)});
    start = end;
  }
}

}  // namespace accent::text
