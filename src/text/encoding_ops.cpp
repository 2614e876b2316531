// text/encoding_ops.cpp — see encoding_ops.h.
#include "text/encoding_ops.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "core/error.h"
#include "text/unicode.h"

namespace accent::text {
namespace {

// Calls f(to_field, from_field) for every per-token field of the two encodings. Offsets may be empty (not
// tracked); f leaves an empty source alone.
template <class F>
void for_each_token_field(Encoding& to, const Encoding& from, F&& f) {
  f(to.ids, from.ids);
  f(to.type_ids, from.type_ids);
  f(to.attention_mask, from.attention_mask);
  f(to.special_tokens_mask, from.special_tokens_mask);
  f(to.tokens, from.tokens);
  f(to.word_ids, from.word_ids);
  f(to.sequence_ids, from.sequence_ids);
  f(to.offsets, from.offsets);
}

// Tokens [begin, end) of e as a new encoding without overflowing windows.
Encoding slice(const Encoding& e, size_t begin, size_t end) {
  Encoding w;
  for_each_token_field(w, e, [&](auto& to, const auto& from) {
    if (!from.empty())
      to.assign(from.begin() + static_cast<std::ptrdiff_t>(begin), from.begin() + static_cast<std::ptrdiff_t>(end));
  });
  return w;
}

}  // namespace

void truncate_into_windows(Encoding& e, size_t max_len, size_t stride, Side side, bool keep_overflow) {
  const size_t n = e.size();
  if (max_len >= n) return;
  if (max_len == 0) {
    Encoding whole = std::move(e);
    e = slice(whole, 0, 0);
    e.replaced_invalid_utf8 = whole.replaced_invalid_utf8;
    if (keep_overflow) e.overflowing.push_back(std::move(whole));
    return;
  }
  ACCENT_CHECK(stride < max_len, "stride ", stride, " must be smaller than the ", max_len,
               " tokens a window of this sequence can hold (max_length minus the special tokens and the other text)");
  // Window ranges: Right steps forward from 0, Left steps back from the end; both stop at the first window
  // that reaches the other end.
  std::vector<std::pair<size_t, size_t>> windows;
  const size_t step = max_len - stride;
  if (side == Side::Right) {
    for (size_t start = 0; start < n; start += step) {
      const size_t stop = std::min(start + max_len, n);
      windows.emplace_back(start, stop);
      if (stop == n) break;
    }
  } else {
    for (size_t last = n; last >= 1;) {  // `last` = one past the window's final token
      const size_t start = last < max_len ? 0 : last - max_len;
      windows.emplace_back(start, last);
      if (start == 0 || last <= step) break;
      last -= step;
    }
  }
  Encoding first = slice(e, windows[0].first, windows[0].second);
  first.replaced_invalid_utf8 = e.replaced_invalid_utf8;
  if (keep_overflow)
    for (size_t k = 1; k < windows.size(); ++k) first.overflowing.push_back(slice(e, windows[k].first, windows[k].second));
  e = std::move(first);
}

void merge_with(Encoding& self, const Encoding& pair) {
  std::vector<Encoding> overflowing;
  for (const Encoding& mine : self.overflowing) {
    Encoding combined = mine;
    merge_with(combined, pair);
    overflowing.push_back(std::move(combined));
    for (const Encoding& theirs : pair.overflowing) {
      Encoding c = mine;
      merge_with(c, theirs);
      overflowing.push_back(std::move(c));
    }
  }
  for (const Encoding& theirs : pair.overflowing) {
    Encoding c = self;
    merge_with(c, theirs);
    overflowing.push_back(std::move(c));
  }
  for_each_token_field(self, pair, [](auto& to, const auto& from) { to.insert(to.end(), from.begin(), from.end()); });
  self.replaced_invalid_utf8 += pair.replaced_invalid_utf8;
  self.overflowing = std::move(overflowing);
}

void pad_encoding(Encoding& e, size_t target, int32_t pad_id, const std::string& pad_token, Side side, bool with_offsets) {
  for (Encoding& w : e.overflowing) pad_encoding(w, target, pad_id, pad_token, side, with_offsets);
  if (e.size() >= target) return;
  const size_t n = target - e.size();
  auto fill = [&](auto& v, auto value) {
    if (side == Side::Right) v.insert(v.end(), n, value);
    else v.insert(v.begin(), n, value);
  };
  fill(e.ids, pad_id);
  fill(e.type_ids, 0);
  fill(e.attention_mask, 0);
  fill(e.special_tokens_mask, 1);
  fill(e.word_ids, -1);
  fill(e.sequence_ids, -1);
  fill(e.tokens, pad_token);
  if (with_offsets) fill(e.offsets, std::pair<int32_t, int32_t>(0, 0));
}

void trim_offsets(Encoding& e, bool add_prefix_space) {
  auto is_space = [](char32_t c) { return c == 0x120 || (char_class(c) & kWhiteSpace); };
  auto trim_one = [&](Encoding& enc) {
    if (enc.offsets.empty()) return;
    for (size_t i = 0; i < enc.size(); ++i) {
      const std::string& token = enc.tokens[i];
      const std::u32string chars = to_code_points(token);
      size_t leading = 0, trailing = 0;
      while (leading < chars.size() && is_space(chars[leading])) ++leading;
      while (trailing < chars.size() && is_space(chars[chars.size() - 1 - trailing])) ++trailing;
      if (leading == 0 && trailing == 0) continue;
      auto& [begin, end] = enc.offsets[i];
      if (leading > 0) {
        const bool is_first = i == 0 || begin == 0;
        if (is_first && add_prefix_space && leading == 1) leading = 0;  // the space the pre-tokenizer added
        begin = std::min(begin + static_cast<int32_t>(leading), end);
      }
      if (trailing > 0 && end >= static_cast<int32_t>(trailing)) end = std::max(end - static_cast<int32_t>(trailing), begin);
    }
  };
  trim_one(e);
  for (Encoding& w : e.overflowing) trim_one(w);
}

}  // namespace accent::text
