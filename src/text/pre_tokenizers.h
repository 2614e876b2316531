// text/pre_tokenizers.h — splitting normalized text into words (spec tokenizers.md §1.4, §2.1, §2.2).
//   - BertPreTokenizer: split on White_Space (removed), every punctuation char is its own word.
//   - ByteLevel: optional prefix space, then the GPT-2 regex
//       's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
//     implemented as a hand-written matcher (leftmost alternative wins), then bytes → GPT-2 unicode chars.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/span.h"

namespace accent::text {


// Appends the words of `text` (valid UTF-8) to `words`.
void bert_pre_tokenize(std::string_view text, std::vector<Span>& words);

// Appends the GPT-2 regex matches of `text`; they cover it entirely.
void gpt2_regex_split(std::string_view text, std::vector<Span>& words);

// Appends the matches of the Llama-3 (max_digits 3) and Qwen2 (max_digits 1) split pattern
//   (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,max_digits}| ?[^\s\p{L}\p{N}]+[\r\n]*|
//   \s*[\r\n]+|\s+(?!\S)|\s+
// (Oniguruma semantics: at each position the first alternative that matches wins); they cover `text` entirely.
void llama3_regex_split(std::string_view text, int max_digits, std::vector<Span>& words);

// GPT-2 bytes_to_unicode: bytes 33-126, 161-172, 174-255 map to themselves; the other 68 bytes, in increasing
// order, to U+0100..U+0143.
const std::array<char32_t, 256>& bytes_to_unicode();
// The inverse map; -1 for code points that are not the image of a byte.
int unicode_to_byte(char32_t cp);
// Appends the byte-level (mapped) form of raw bytes.
void append_byte_level(std::string_view bytes, std::string& out);

}  // namespace accent::text
