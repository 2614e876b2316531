// text/unicode.cpp — see unicode.h. Tables are expanded once into a flat 1.1 MB flag array.
#include "text/unicode.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <cstring>
#include <memory>

namespace accent::text {
namespace {

struct CodePointRange {
  char32_t first, last;
};
struct LowercasePair {
  char32_t from, to;
};
struct LowercaseMulti {
  char32_t from;
  char32_t to[3];
  int n;
};

#include "text/unicode_tables.inc"

constexpr char32_t kMaxCodePoint = 0x10FFFF;

// CJK ranges of tokenizers/src/normalizers/bert.rs (is_chinese_char).
constexpr CodePointRange k_cjk_ranges[] = {
    {0x4E00, 0x9FFF},   {0x3400, 0x4DBF},   {0x20000, 0x2A6DF}, {0x2A700, 0x2B73F},
    {0x2B740, 0x2B81F}, {0x2B920, 0x2CEAF}, {0xF900, 0xFAFF},   {0x2F800, 0x2FA1F},
};

struct ClassTable {
  std::unique_ptr<uint8_t[]> flags{new uint8_t[kMaxCodePoint + 1]()};
  ClassTable() {
    auto mark = [&](const auto& ranges, uint8_t bit) {
      for (const CodePointRange& r : ranges)
        for (char32_t c = r.first; c <= r.last; ++c) flags[c] |= bit;
    };
    mark(k_control_ranges, kControl);
    mark(k_white_space_ranges, kWhiteSpace);
    mark(k_punct_ranges, kPunct);
    mark(k_mark_nonspacing_ranges, kMarkNonspacing);
    mark(k_letter_ranges, kLetter);
    mark(k_number_ranges, kNumber);
    mark(k_cjk_ranges, kCjk);
    for (const LowercasePair& p : k_lowercase_pairs) flags[p.from] |= kHasLowercase;
    for (const LowercaseMulti& m : k_lowercase_multi) flags[m.from] |= kHasLowercase;
  }
};

const ClassTable& class_table() {
  static const ClassTable table;
  return table;
}

template <size_t N>
bool in_ranges(const CodePointRange (&ranges)[N], char32_t cp) {
  auto it = std::upper_bound(std::begin(ranges), std::end(ranges), cp,
                             [](char32_t c, const CodePointRange& r) { return c < r.first; });
  return it != std::begin(ranges) && cp <= std::prev(it)->last;
}

// Whether HF's NFD gives cp a combining class > 0 (k_combining_ranges; binary search, called for marks only).
bool is_hf_nonstarter(char32_t cp) { return in_ranges(k_combining_ranges, cp); }

}  // namespace

uint8_t char_class(char32_t cp) { return cp <= kMaxCodePoint ? class_table().flags[cp] : 0; }

bool is_cjk(char32_t cp) { return (char_class(cp) & kCjk) != 0; }

char32_t lowercase_simple(char32_t cp) {
  if (cp < 0x80) return (cp >= 'A' && cp <= 'Z') ? cp + 32 : cp;
  if (!(char_class(cp) & kHasLowercase)) return cp;
  auto it = std::lower_bound(std::begin(k_lowercase_pairs), std::end(k_lowercase_pairs), cp,
                             [](const LowercasePair& p, char32_t c) { return p.from < c; });
  if (it != std::end(k_lowercase_pairs) && it->from == cp) return it->to;
  return cp;
}

void append_lowercase(std::u32string& out, char32_t cp) {
  if (cp >= 0x80 && (char_class(cp) & kHasLowercase)) {
    for (const LowercaseMulti& m : k_lowercase_multi)
      if (m.from == cp) {
        out.append(m.to, m.to + m.n);
        return;
      }
  }
  out.push_back(lowercase_simple(cp));
}

Utf8Step decode_utf8(std::string_view s, size_t i) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  const unsigned b0 = p[i];
  if (b0 < 0x80) return {b0, 1, true};
  int need;
  char32_t cp;
  unsigned lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    need = 1, cp = b0 & 0x1F;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    need = 2, cp = b0 & 0x0F;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    need = 3, cp = b0 & 0x07;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return {0xFFFD, 1, false};  // continuation byte, C0, C1, F5..FF
  }
  uint32_t len = 1;
  for (int k = 0; k < need; ++k) {
    if (i + len >= n) return {0xFFFD, len, false};  // truncated: the maximal subpart is one U+FFFD
    const unsigned b = p[i + len];
    if (b < (k == 0 ? lo : 0x80u) || b > (k == 0 ? hi : 0xBFu)) return {0xFFFD, len, false};
    cp = (cp << 6) | (b & 0x3F);
    ++len;
  }
  return {cp, len, true};
}

bool is_valid_utf8(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (i < n) {
    if (i + 8 <= n) {
      uint64_t w;
      std::memcpy(&w, s.data() + i, 8);
      if ((w & 0x8080808080808080ULL) == 0) {
        i += 8;
        continue;
      }
    }
    if (static_cast<unsigned char>(s[i]) < 0x80) {
      ++i;
      continue;
    }
    const Utf8Step step = decode_utf8(s, i);
    if (!step.valid) return false;
    i += step.length;
  }
  return true;
}

size_t to_valid_utf8(std::string_view s, std::string& out) {
  out.clear();
  out.reserve(s.size() + 8);
  size_t replaced = 0;
  for (size_t i = 0; i < s.size();) {
    const Utf8Step step = decode_utf8(s, i);
    if (step.valid) {
      out.append(s.data() + i, step.length);
    } else {
      append_utf8(out, 0xFFFD);
      ++replaced;
    }
    i += step.length;
  }
  return replaced;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::u32string to_code_points(std::string_view s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    const Utf8Step step = decode_utf8(s, i);
    out.push_back(step.cp);
    i += step.length;
  }
  return out;
}

bool hf_is_combining_mark(char32_t cp) { return cp >= 0x300 && in_ranges(k_combining_mark_ranges, cp); }

int hf_combining_class(char32_t c) {
  if (c < 0x300) return 0;
  const int cls = utf8proc_get_property(static_cast<utf8proc_int32_t>(c))->combining_class;
  return cls != 0 && is_hf_nonstarter(c) ? cls : 0;
}

char32_t compose_pair(char32_t starter, char32_t next) {
  if (next < 0x300) return 0;  // every second half of a composition (marks, Hangul V/T, ...) is >= U+0300
  utf8proc_int32_t buffer[2] = {static_cast<utf8proc_int32_t>(starter), static_cast<utf8proc_int32_t>(next)};
  const utf8proc_ssize_t n = utf8proc_normalize_utf32(buffer, 2, UTF8PROC_COMPOSE);
  // utf8proc composes pairs here whatever they are; composition exclusions (U+1D15E, U+2ADC, ...) must stay
  // decomposed in NFC.
  if (n != 1 || utf8proc_get_property(buffer[0])->comp_exclusion) return 0;
  // A composite HF's (older) Unicode does not decompose does not exist there either.
  if (!in_ranges(k_nfd_decomposes_ranges, static_cast<char32_t>(buffer[0]))) return 0;
  return static_cast<char32_t>(buffer[0]);
}

void append_nfd(const std::u32string& in, std::u32string& out, std::vector<uint8_t>* inserted, bool compatibility) {
  const size_t start = out.size();
  const size_t flag_start = inserted ? inserted->size() : 0;
  utf8proc_int32_t buffer[32];
  for (char32_t cp : in) {
    utf8proc_ssize_t n = 0;
    // Only what HF's crate decomposes (nothing below U+00C0 canonically, U+00A0 at all); the mappings are
    // utf8proc's (a decomposition never changes once assigned).
    if (cp >= (compatibility ? 0xA0 : 0xC0) &&
        (compatibility ? in_ranges(k_nfkd_decomposes_ranges, cp) : in_ranges(k_nfd_decomposes_ranges, cp))) {
      int last_boundclass = 0;
      const int options = UTF8PROC_DECOMPOSE | (compatibility ? UTF8PROC_COMPAT : 0);
      n = utf8proc_decompose_char(static_cast<utf8proc_int32_t>(cp), buffer, 32, static_cast<utf8proc_option_t>(options),
                                  &last_boundclass);
    }
    if (n <= 0 || n > 32) {
      out.push_back(cp);
      if (inserted) inserted->push_back(0);
      continue;
    }
    for (utf8proc_ssize_t k = 0; k < n; ++k) {
      out.push_back(static_cast<char32_t>(buffer[k]));
      if (inserted) inserted->push_back(k > 0);
    }
  }
  // Canonical ordering: stable-sort each run of non-starters by combining class (insertion sort; runs are short).
  // utf8proc's class, except for marks HF's older Unicode does not know (starters there, class 0).
  auto ccc = hf_combining_class;
  for (size_t i = start + 1; i < out.size(); ++i) {
    const int ci = ccc(out[i]);
    if (ci == 0) continue;
    size_t j = i;
    const char32_t c = out[i];
    const uint8_t flag = inserted ? (*inserted)[flag_start + (i - start)] : 0;
    while (j > start) {
      const int cj = ccc(out[j - 1]);
      if (cj <= ci) break;  // a starter (0) or an equal/lower class stops the move
      out[j] = out[j - 1];
      if (inserted) (*inserted)[flag_start + (j - start)] = (*inserted)[flag_start + (j - 1 - start)];
      --j;
    }
    out[j] = c;
    if (inserted) (*inserted)[flag_start + (j - start)] = flag;
  }
}

size_t count_code_points(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

}  // namespace accent::text
