// text/unigram.cpp — see unigram.h.
#include "text/unigram.h"

#include <cstdio>
#include <limits>

#include "core/error.h"
#include "text/unicode.h"

namespace accent::text {
namespace {
constexpr double kUnkPenalty = 10.0;  // tokenizers K_UNK_PENALTY
}

Unigram::Unigram(std::vector<std::pair<std::string, double>> vocab, std::optional<int32_t> unk_id, bool byte_fallback)
    : vocab_(std::move(vocab)), unk_id_(unk_id), byte_fallback_(byte_fallback) {
  ACCENT_CHECK(!unk_id_ || (*unk_id_ >= 0 && static_cast<size_t>(*unk_id_) < vocab_.size()), "Unigram: model.unk_id ",
               unk_id_.value_or(-1), " is not in the vocabulary of ", vocab_.size(), " pieces");
  min_score_ = std::numeric_limits<double>::infinity();
  for (size_t id = 0; id < vocab_.size(); ++id) {
    ids_.set(vocab_[id].first, static_cast<int32_t>(id));  // a later duplicate wins, as in tokenizers' map
    max_piece_bytes_ = std::max(max_piece_bytes_, vocab_[id].first.size());
    min_score_ = std::min(min_score_, vocab_[id].second);
  }
  for (int b = 0; b < 256; ++b) {
    char name[8];
    std::snprintf(name, sizeof name, "<0x%02X>", b);
    byte_ids_[b] = ids_.find(name);
  }
}

const std::string* Unigram::id_to_token(int32_t id) const {
  return id >= 0 && static_cast<size_t>(id) < vocab_.size() ? &vocab_[static_cast<size_t>(id)].first : nullptr;
}

void Unigram::tokenize(std::string_view word, std::vector<int32_t>& ids, std::vector<Span>* spans) const {
  const size_t n = word.size();
  if (n == 0) return;
  struct Node {
    double score = 0;
    int64_t start = -1;  // -1: no path reaches here yet
    int32_t id = 0;
  };
  thread_local std::vector<Node> best;
  best.assign(n + 1, Node{});
  best[0].start = 0;
  const double unk_score = min_score_ - kUnkPenalty;
  for (size_t s = 0; s < n;) {
    const size_t char_length = decode_utf8(word, s).length;
    const double here = best[s].score;
    bool has_single = false;
    const size_t longest = std::min(max_piece_bytes_, n - s);
    for (size_t length = 1; length <= longest; ++length) {  // shortest first, like the trie's prefix search
      const int32_t id = ids_.find(word.substr(s, length));
      if (id < 0) continue;
      Node& target = best[s + length];
      const double candidate = here + vocab_[static_cast<size_t>(id)].second;
      if (target.start < 0 || candidate > target.score) target = {candidate, static_cast<int64_t>(s), id};
      has_single |= length == char_length;
    }
    if (!has_single) {
      Node& target = best[s + char_length];
      const double candidate = here + unk_score;
      if (target.start < 0 || candidate > target.score) {
        // tokenizers errors only here, where the unknown piece would be on a best path.
        ACCENT_CHECK(unk_id_.has_value(), "Unigram: '", word.substr(s, char_length),
                     "' is not in the vocabulary and the model has no unk_id");
        target = {candidate, static_cast<int64_t>(s), *unk_id_};
      }
    }
    s += char_length;
  }
  // Back from the end: pieces (begin, end, id), unknowns fused.
  thread_local std::vector<std::pair<Span, int32_t>> pieces;
  pieces.clear();
  for (size_t end = n; end > 0;) {
    const Node& node = best[end];
    const size_t start = static_cast<size_t>(node.start);
    const bool unk = unk_id_ && node.id == *unk_id_;
    if (unk && !pieces.empty() && pieces.back().second == -1)
      pieces.back().first.begin = static_cast<uint32_t>(start);  // extend the fused unknown leftwards
    else
      pieces.push_back({{static_cast<uint32_t>(start), static_cast<uint32_t>(end)}, unk ? -1 : node.id});
    end = start;
  }
  for (auto it = pieces.rbegin(); it != pieces.rend(); ++it) {
    const Span span = it->first;
    int32_t id = it->second;
    if (id == -1) {  // a fused unknown string: itself if it is a piece, else bytes, else unk
      const std::string_view text = word.substr(span.begin, span.end - span.begin);
      id = ids_.find(text);
      if (id < 0 && byte_fallback_) {
        bool all = true;
        for (unsigned char b : text) all &= byte_ids_[b] >= 0;
        if (all) {
          for (unsigned char b : text) {
            ids.push_back(byte_ids_[b]);
            if (spans) spans->push_back(span);
          }
          continue;
        }
      }
      if (id < 0) id = *unk_id_;
    }
    ids.push_back(id);
    if (spans) spans->push_back(span);
  }
}

}  // namespace accent::text
