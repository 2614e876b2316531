// text/added_vocabulary.cpp — see added_vocabulary.h.
#include "text/added_vocabulary.h"

#include <algorithm>

#include "core/error.h"
#include "text/unicode.h"

namespace accent::text {
namespace {

// Regex \w of the Rust regex crate (Alphabetic, M, Nd, Pc, Join_Control), approximated with the tables we
// have: letters, numbers, nonspacing marks, connector punctuation '_' and ZWNJ/ZWJ. Only single_word uses it.
bool is_word_char(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  const uint8_t cls = char_class(cp);
  return (cls & (kLetter | kNumber | kMarkNonspacing)) || cp == 0x200C || cp == 0x200D || cp == 0x203F ||
         cp == 0x2040 || cp == 0x2054 || cp == 0xFE33 || cp == 0xFE34 || (cp >= 0xFE4D && cp <= 0xFE4F) ||
         cp == 0xFF3F;
}

char32_t last_code_point(std::string_view s) {
  size_t i = s.size();
  while (i > 0 && (static_cast<unsigned char>(s[i - 1]) & 0xC0) == 0x80) --i;
  if (i > 0) --i;
  return decode_utf8(s, i).cp;
}

}  // namespace

void AddedTokenMatcher::build(std::vector<std::string> patterns, std::vector<int32_t> ids,
                              std::vector<AddedToken> tokens) {
  patterns_ = std::move(patterns);
  ids_ = std::move(ids);
  tokens_ = std::move(tokens);
  by_first_byte_.assign(256, {});
  std::fill(std::begin(first_byte_), std::end(first_byte_), false);
  for (uint32_t k = 0; k < patterns_.size(); ++k) {
    if (patterns_[k].empty()) continue;  // an empty pattern never matches usefully (HF skips empty content)
    const unsigned char b = static_cast<unsigned char>(patterns_[k][0]);
    by_first_byte_[b].push_back(k);
    first_byte_[b] = true;
  }
  for (auto& list : by_first_byte_)
    std::stable_sort(list.begin(), list.end(),
                     [&](uint32_t a, uint32_t b) { return patterns_[a].size() > patterns_[b].size(); });
}

void AddedTokenMatcher::split(std::string_view text, std::vector<AddedSplit>& out) const {
  const size_t n = text.size();
  size_t start_offset = 0;  // end of the previous emitted match
  size_t pos = 0;           // where the next search starts (end of the previous raw match)
  while (pos < n) {
    // Leftmost position with a match, longest pattern there.
    size_t mstart = n, mend = 0;
    uint32_t which = 0;
    for (size_t i = pos; i < n; ++i) {
      const unsigned char b = static_cast<unsigned char>(text[i]);
      if (!first_byte_[b]) continue;
      for (uint32_t k : by_first_byte_[b]) {
        const std::string& p = patterns_[k];
        if (p.size() <= n - i && text.compare(i, p.size(), p) == 0) {
          mstart = i, mend = i + p.size(), which = k;
          break;
        }
      }
      if (mstart != n) break;
    }
    if (mstart == n) break;
    pos = mend;
    const AddedToken& token = tokens_[which];
    size_t start = mstart, stop = mend;
    if (token.single_word) {
      const bool start_space = start == 0 || !is_word_char(last_code_point(text.substr(0, start)));
      const bool stop_space = stop == n || !is_word_char(decode_utf8(text, stop).cp);
      if (!start_space || !stop_space) continue;  // not a whole word: skipped (the search still moves on)
    }
    if (token.lstrip) {  // swallow the whitespace before, but not what a previous match already took
      size_t s = start;
      while (s > 0) {
        size_t k = s - 1;
        while (k > 0 && (static_cast<unsigned char>(text[k]) & 0xC0) == 0x80) --k;
        if (!(char_class(decode_utf8(text, k).cp) & kWhiteSpace)) break;
        s = k;
      }
      start = std::max(s, start_offset);
    }
    if (token.rstrip) {
      while (stop < n) {
        const Utf8Step st = decode_utf8(text, stop);
        if (!(char_class(st.cp) & kWhiteSpace)) break;
        stop += st.length;
      }
    }
    if (start_offset < start)
      out.push_back({static_cast<uint32_t>(start_offset), static_cast<uint32_t>(start), -1});
    out.push_back({static_cast<uint32_t>(start), static_cast<uint32_t>(stop), ids_[which]});
    start_offset = stop;
  }
  if (start_offset < n) out.push_back({static_cast<uint32_t>(start_offset), static_cast<uint32_t>(n), -1});
}

void AddedVocabulary::add(const std::vector<AddedToken>& tokens,
                          const std::function<int32_t(std::string_view)>& model_token_to_id, size_t model_vocab_size) {
  for (const AddedToken& t : tokens) {
    if (t.special && !t.content.empty() && !is_special(t.content)) order_special_.push_back(t);
  }
  for (const AddedToken& t : tokens) {
    if (t.content.empty()) continue;
    bool same = false;  // exactly this token already registered: ignored
    for (const Entry& e : entries_)
      if (e.token.content == t.content && e.token.single_word == t.single_word && e.token.lstrip == t.lstrip &&
          e.token.rstrip == t.rstrip && e.token.normalized == t.normalized && e.token.special == t.special)
        same = true;
    if (same) continue;
    int32_t id = by_content_.find(t.content);
    if (id < 0) id = model_token_to_id(t.content);
    if (id < 0) {
      int32_t max_added = -1;
      for (const Entry& e : entries_) max_added = std::max(max_added, e.id);
      const auto vocab = static_cast<int32_t>(model_vocab_size);
      id = max_added < 0 ? vocab : (max_added >= vocab || vocab == 0) ? max_added + 1 : vocab;
    }
    by_content_.set(t.content, id);
    auto it = std::find_if(entries_.begin(), entries_.end(), [&](const Entry& e) { return e.id == id; });
    if (it != entries_.end()) it->token = t;
    else entries_.push_back({id, t});
    if (!is_special(t.content)) order_plain_.push_back(t);
  }
}

void AddedVocabulary::rebuild_matchers(const std::function<std::string(std::string_view)>& normalize,
                                       const std::function<int32_t(std::string_view)>& model_token_to_id) {
  std::vector<std::string> raw_patterns, norm_patterns;
  std::vector<int32_t> raw_ids, norm_ids;
  std::vector<AddedToken> raw_tokens, norm_tokens;
  auto visit = [&](const AddedToken& t) {
    int32_t id = by_content_.find(t.content);
    if (id < 0) id = model_token_to_id(t.content);
    ACCENT_CHECK(id >= 0, "added token '", t.content, "' has no id");
    const AddedToken* stored_ptr = token_for_id(id);
    const AddedToken& stored = stored_ptr ? *stored_ptr : t;
    if (t.normalized) {
      norm_patterns.push_back(normalize ? normalize(t.content) : t.content);
      norm_ids.push_back(id);
      norm_tokens.push_back(stored);
    } else {
      raw_patterns.push_back(t.content);
      raw_ids.push_back(id);
      raw_tokens.push_back(stored);
    }
  };
  for (const AddedToken& t : order_special_) visit(t);
  for (const AddedToken& t : order_plain_) visit(t);
  raw_matcher_.build(std::move(raw_patterns), std::move(raw_ids), std::move(raw_tokens));
  normalized_matcher_.build(std::move(norm_patterns), std::move(norm_ids), std::move(norm_tokens));
}

const AddedToken* AddedVocabulary::token_for_id(int32_t id) const {
  for (const Entry& e : entries_)
    if (e.id == id) return &e.token;
  return nullptr;
}

bool AddedVocabulary::is_special(std::string_view content) const {
  for (const AddedToken& t : order_special_)
    if (t.content == content) return true;
  return false;
}

std::vector<std::pair<int32_t, AddedToken>> AddedVocabulary::sorted_by_id() const {
  std::vector<std::pair<int32_t, AddedToken>> out;
  for (const Entry& e : entries_) out.emplace_back(e.id, e.token);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

}  // namespace accent::text
