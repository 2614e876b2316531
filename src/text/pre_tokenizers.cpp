// text/pre_tokenizers.cpp — see pre_tokenizers.h.
#include "text/pre_tokenizers.h"

#include "text/unicode.h"

namespace accent::text {
namespace {

// Coarse class for the GPT-2 regex: whitespace (\s), letter (\p{L}), number (\p{N}), other.
enum RegexClass : uint8_t { kS, kL, kN, kO };

struct AsciiTables {
  RegexClass regex[128];
  uint8_t bert[128];  // 0 word char, 1 whitespace, 2 punctuation
  AsciiTables() {
    for (int c = 0; c < 128; ++c) {
      const uint8_t cls = char_class(static_cast<char32_t>(c));
      regex[c] = (cls & kWhiteSpace) ? kS : (cls & kLetter) ? kL : (cls & kNumber) ? kN : kO;
      bert[c] = (cls & kWhiteSpace) ? 1 : (cls & kPunct) ? 2 : 0;
    }
  }
};
const AsciiTables& ascii_tables() {
  static const AsciiTables tables;
  return tables;
}

inline RegexClass regex_class(char32_t cp) {
  const uint8_t cls = char_class(cp);
  return (cls & kWhiteSpace) ? kS : (cls & kLetter) ? kL : (cls & kNumber) ? kN : kO;
}

// Class and byte length of the code point at s[i] (valid UTF-8).
inline RegexClass class_at(std::string_view s, size_t i, uint32_t& length) {
  const unsigned char b = static_cast<unsigned char>(s[i]);
  if (b < 0x80) {
    length = 1;
    return ascii_tables().regex[b];
  }
  const Utf8Step step = decode_utf8(s, i);
  length = step.length;
  return regex_class(step.cp);
}

// End of the run of class k starting at s[j] (at most `limit` code points).
size_t class_run_end(std::string_view s, size_t j, RegexClass k, size_t limit = SIZE_MAX) {
  for (size_t count = 0; j < s.size() && count < limit; ++count) {
    uint32_t len;
    if (class_at(s, j, len) != k) break;
    j += len;
  }
  return j;
}

// Length in bytes of the contraction 's|'t|'re|'ve|'m|'ll|'d at s[i] (0: none). With ignore_case, Oniguruma's
// (?i:...): ASCII letters of either case, and 's also matches U+017F (long s, "ſ"), which case-folds to s.
size_t contraction_length(std::string_view s, size_t i, bool ignore_case) {
  const size_t n = s.size();
  if (s[i] != '\'' || i + 1 >= n) return 0;
  if (ignore_case && i + 2 < n && s[i + 1] == '\xC5' && s[i + 2] == '\xBF') return 3;
  auto letter = [&](size_t k) -> char {  // the ASCII letter at k (lowercased when ignoring case), else 0
    if (k >= n) return 0;
    const char c = s[k];
    const char lowered = static_cast<char>(c | 0x20);
    if (ignore_case) return lowered >= 'a' && lowered <= 'z' ? lowered : 0;
    return c >= 'a' && c <= 'z' ? c : 0;
  };
  const char c1 = letter(i + 1);
  if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd') return 2;
  const char c2 = letter(i + 2);
  if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') || (c1 == 'l' && c2 == 'l')) return 3;
  return 0;
}

}  // namespace

void bert_pre_tokenize(std::string_view text, std::vector<Span>& words) {
  const AsciiTables& ascii = ascii_tables();
  size_t word_start = 0;
  bool in_word = false;
  for (size_t i = 0; i < text.size();) {
    const unsigned char b = static_cast<unsigned char>(text[i]);
    uint8_t kind;
    uint32_t length = 1;
    if (b < 0x80) {
      kind = ascii.bert[b];
    } else {
      const Utf8Step step = decode_utf8(text, i);
      length = step.length;
      const uint8_t cls = char_class(step.cp);
      kind = (cls & kWhiteSpace) ? 1 : (cls & kPunct) ? 2 : 0;
    }
    if (kind == 0) {
      if (!in_word) word_start = i, in_word = true;
    } else {
      if (in_word) words.push_back({static_cast<uint32_t>(word_start), static_cast<uint32_t>(i)});
      in_word = false;
      if (kind == 2) words.push_back({static_cast<uint32_t>(i), static_cast<uint32_t>(i + length)});
    }
    i += length;
  }
  if (in_word) words.push_back({static_cast<uint32_t>(word_start), static_cast<uint32_t>(text.size())});
}

void gpt2_regex_split(std::string_view s, std::vector<Span>& words) {
  const size_t n = s.size();
  auto emit = [&](size_t b, size_t e) { words.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e)}); };
  auto run_end = [&](size_t j, RegexClass k) { return class_run_end(s, j, k); };
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    // 's|'t|'re|'ve|'m|'ll|'d  (ASCII lowercase only)
    if (const size_t length = contraction_length(s, i, /*ignore_case=*/false)) {
      emit(i, i + length);
      i += length;
      continue;
    }
    uint32_t len;
    const RegexClass k = class_at(s, i, len);
    if (k != kS) {  // \p{L}+ | \p{N}+ | [^\s\p{L}\p{N}]+
      const size_t e = run_end(i + len, k);
      emit(i, e);
      i = e;
      continue;
    }
    if (c == ' ' && i + 1 < n) {  // " ?X+" : one U+0020 joins a following letter/number/other run
      uint32_t len2;
      const RegexClass k2 = class_at(s, i + 1, len2);
      if (k2 != kS) {
        const size_t e = run_end(i + 1 + len2, k2);
        emit(i, e);
        i = e;
        continue;
      }
    }
    // \s+(?!\S) | \s+ : the whitespace run, minus its last char when a non-space follows (unless that
    // would leave nothing).
    size_t j = i, last = i;
    while (j < n) {
      uint32_t l;
      if (class_at(s, j, l) != kS) break;
      last = j;
      j += l;
    }
    const size_t e = (j == n || last == i) ? j : last;
    emit(i, e);
    i = e;
  }
}

void llama3_regex_split(std::string_view s, int max_digits, std::vector<Span>& words) {
  const size_t n = s.size();
  auto emit = [&](size_t b, size_t e) { words.push_back({static_cast<uint32_t>(b), static_cast<uint32_t>(e)}); };
  auto is_cr_lf = [&](size_t j) { return s[j] == '\r' || s[j] == '\n'; };
  auto run_end = [&](size_t j, RegexClass k, size_t limit = SIZE_MAX) { return class_run_end(s, j, k, limit); };
  size_t i = 0;
  while (i < n) {
    const char c = s[i];
    // (?i:'s|'t|'re|'ve|'m|'ll|'d)
    if (const size_t length = contraction_length(s, i, /*ignore_case=*/true)) {
      emit(i, i + length);
      i += length;
      continue;
    }
    uint32_t len;
    const RegexClass k = class_at(s, i, len);
    // [^\r\n\p{L}\p{N}]?\p{L}+
    if (k == kL) {
      const size_t e = run_end(i + len, kL);
      emit(i, e);
      i = e;
      continue;
    }
    if (k != kN && !is_cr_lf(i) && i + len < n) {
      uint32_t len2;
      if (class_at(s, i + len, len2) == kL) {
        const size_t e = run_end(i + len + len2, kL);
        emit(i, e);
        i = e;
        continue;
      }
    }
    // \p{N}{1,max_digits}
    if (k == kN) {
      const size_t e = run_end(i + len, kN, static_cast<size_t>(max_digits) - 1);
      emit(i, e);
      i = e;
      continue;
    }
    // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
    size_t other_start = SIZE_MAX;
    if (k == kO) {
      other_start = i;
    } else if (c == ' ' && i + 1 < n) {
      uint32_t len2;
      if (class_at(s, i + 1, len2) == kO) other_start = i + 1;
    }
    if (other_start != SIZE_MAX) {
      size_t e = run_end(other_start, kO);
      while (e < n && is_cr_lf(e)) ++e;
      emit(i, e);
      i = e;
      continue;
    }
    // Only whitespace is left (k == kS). W = the whitespace run from i.
    size_t j = i, last = i, last_cr_lf = SIZE_MAX;
    while (j < n) {
      uint32_t l;
      if (class_at(s, j, l) != kS) break;
      if (is_cr_lf(j)) last_cr_lf = j;
      last = j;
      j += l;
    }
    // \s*[\r\n]+ : through W's last CR/LF (the greedy \s* backs off to it).
    if (last_cr_lf != SIZE_MAX) {
      emit(i, last_cr_lf + 1);
      i = last_cr_lf + 1;
      continue;
    }
    // \s+(?!\S) | \s+ : as in the GPT-2 pattern.
    const size_t e = (j == n || last == i) ? j : last;
    emit(i, e);
    i = e;
  }
}

const std::array<char32_t, 256>& bytes_to_unicode() {
  static const std::array<char32_t, 256> table = [] {
    std::array<char32_t, 256> t{};
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
      t[b] = printable ? static_cast<char32_t>(b) : next++;
    }
    return t;
  }();
  return table;
}

int unicode_to_byte(char32_t cp) {
  static const std::array<int16_t, 0x144> inverse = [] {
    std::array<int16_t, 0x144> inv;
    inv.fill(-1);
    const auto& fwd = bytes_to_unicode();
    for (int b = 0; b < 256; ++b) inv[fwd[b]] = static_cast<int16_t>(b);
    return inv;
  }();
  return cp < inverse.size() ? inverse[cp] : -1;
}

void append_byte_level(std::string_view bytes, std::string& out) {
  const auto& map = bytes_to_unicode();
  for (unsigned char b : bytes) append_utf8(out, map[b]);
}

}  // namespace accent::text
