// text/unicode.h — UTF-8 decoding (lossy, like Rust's String::from_utf8_lossy and JS TextDecoder) and the
// character classes of Hugging Face `tokenizers` (spec tokenizers.md §1.1, §2.2).
//
// Classes come from unicode_tables.inc, generated from the HF oracle (tests/oracle/gen_unicode_tables.js),
// because HF pins two Unicode versions at once: BERT's control/punctuation/Mn tests use Unicode 8.0 data
// (`unicode_categories` crate), the byte-level regex and lowercasing use Unicode 16 (Oniguruma, Rust std).
// NFD decomposition and canonical ordering use utf8proc, with HF's set of non-starters (marks newer than HF's
// Unicode are starters there, which changes the order of marks and so the offsets, not the tokens).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace accent::text {

// Bit flags of char_class().
enum CharClassBit : uint8_t {
  kControl = 1 << 0,         // deleted by BertNormalizer clean_text: Cc/Cf/Co (Unicode 8.0) except \t \n \r
  kWhiteSpace = 1 << 1,      // Unicode White_Space (Rust char::is_whitespace, regex \s)
  kPunct = 1 << 2,           // BERT punctuation: ASCII 33-47, 58-64, 91-96, 123-126, or P* (Unicode 8.0)
  kMarkNonspacing = 1 << 3,  // Mn (Unicode 8.0), removed by strip_accents after NFD
  kLetter = 1 << 4,          // \p{L} in the GPT-2 regex (Unicode 16)
  kNumber = 1 << 5,          // \p{N} in the GPT-2 regex (Unicode 16)
  kCjk = 1 << 6,             // BERT "Chinese character" ranges of the fast tokenizer (§1.1)
  kHasLowercase = 1 << 7,    // char::to_lowercase changes it
};

// Flags of a code point (cp <= 0x10FFFF; larger values get 0).
uint8_t char_class(char32_t cp);

// True for the BERT CJK ranges (fast/Rust ranges: U+2B920, not U+2B820).
bool is_cjk(char32_t cp);

// Appends Rust char::to_lowercase(cp) (full mapping without context: U+0130 → "i̇", Σ → σ always).
void append_lowercase(std::u32string& out, char32_t cp);
char32_t lowercase_simple(char32_t cp);  // single-code-point mappings only (all but U+0130)

// Decodes one code point at s[i]. Invalid input yields U+FFFD covering the maximal invalid subpart
// (WHATWG/Unicode "substitution of maximal subparts", the rule of Rust from_utf8_lossy and Node's decoder).
struct Utf8Step {
  char32_t cp;
  uint32_t length;  // bytes consumed, >= 1
  bool valid;
};
Utf8Step decode_utf8(std::string_view s, size_t i);

// Returns true when s is valid UTF-8 (fast path, 8 ASCII bytes at a time).
bool is_valid_utf8(std::string_view s);

// Lossy conversion: every maximal invalid subpart becomes U+FFFD. Returns the number of replacements.
size_t to_valid_utf8(std::string_view s, std::string& out);

void append_utf8(std::string& out, char32_t cp);
// The code points of valid UTF-8 `s` (invalid bytes would come out as U+FFFD, as decode_utf8 gives them).
std::u32string to_code_points(std::string_view s);
inline size_t utf8_length(char32_t cp) { return cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4; }

// Appends the canonical decomposition (NFD, with canonical ordering of combining marks) of `in`.
// When `inserted` is given it receives, per appended code point, 0 for the first code point of a character's
// decomposition and 1 for the others; the flags move with their code points through the reordering (the
// (char, change) pairs of the unicode-normalization-alignments crate HF uses, change 0 = replaces, 1 = inserted).
// `compatibility`: the compatibility decomposition (NFKD) instead.
void append_nfd(const std::u32string& in, std::u32string& out, std::vector<uint8_t>* inserted = nullptr,
                bool compatibility = false);

// General_Category M (Mn, Mc, Me) of HF's normalization crate's Unicode: what StripAccents removes.
bool hf_is_combining_mark(char32_t cp);

// Canonical combining class as HF's normalization crate sees it (utf8proc's, 0 for marks newer than HF's Unicode).
int hf_combining_class(char32_t c);
// The primary composite of starter + next (canonical composition, Hangul included, exclusions excluded), or 0.
char32_t compose_pair(char32_t starter, char32_t next);

// Counts code points of valid UTF-8.
size_t count_code_points(std::string_view s);

}  // namespace accent::text
