// data/utf8_check.h — UTF-8 validation for input files (data/utf8_stream.h applies it as bytes stream, with
// Python's "replace" error handler).
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

}  // namespace accent
