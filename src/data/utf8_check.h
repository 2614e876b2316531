// data/utf8_check.h — UTF-8 validation for input files, and Python's "replace" error handler.
//
// Well-formed UTF-8 is Unicode's Table 3-7 (no overlongs, no surrogates D800..DFFF, nothing above U+10FFFF).
// Replacement follows the Unicode "maximal subpart" practice that Python's bytes.decode("utf-8", "replace") and
// therefore pandas' encoding_errors="replace" use: each maximal prefix of a valid sequence that cannot be completed,
// and each byte that cannot start one, becomes one U+FFFD. E.g. "\xE2\x82," -> "\uFFFD,", "\xED\xA0\x80" -> 3 x U+FFFD.
#pragma once
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace accent {

// Byte length of the well-formed sequence starting at s[i], or 0 when s[i..] starts an ill-formed one;
// *bad_len (if given) receives the length of the maximal ill-formed subpart (>= 1) in that case.
size_t utf8_sequence_length(std::string_view s, size_t i, size_t* bad_len = nullptr);

// Offset of the first ill-formed byte, or std::string_view::npos when `s` is valid UTF-8.
size_t find_invalid_utf8(std::string_view s);

// Returns `s` with every maximal ill-formed subpart replaced by U+FFFD ("\xEF\xBF\xBD"); `replaced_at` receives
// the output offset of each replacement.
std::string replace_invalid_utf8(std::string_view s, std::vector<size_t>* replaced_at);

}  // namespace accent
