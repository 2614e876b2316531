// text/precompiled_charsmap.cpp — see precompiled_charsmap.h.
#include "text/precompiled_charsmap.h"

#include <cstring>

#include "core/error.h"
#include "text/unicode.h"

namespace accent::text {
namespace {

// Darts-clone unit fields, as spm_precompiled reads them (units widened to 64 bits first).
inline bool has_leaf(uint64_t unit) { return (unit >> 8) & 1; }
inline uint64_t value(uint64_t unit) { return unit & ((uint64_t{1} << 31) - 1); }
inline uint64_t label(uint64_t unit) { return unit & ((uint64_t{1} << 31) | 0xFF); }
inline uint64_t offset(uint64_t unit) { return (unit >> 10) << ((unit & (uint64_t{1} << 9)) >> 6); }

}  // namespace

PrecompiledCharsmap::PrecompiledCharsmap(std::string blob) : blob_(std::move(blob)) {
  ACCENT_CHECK(blob_.size() >= 4, "Precompiled normalizer: the charsmap has ", blob_.size(),
               " bytes; expected at least the 4-byte trie size");
  uint32_t trie_bytes;
  std::memcpy(&trie_bytes, blob_.data(), 4);  // little endian, like the x86/ARM hosts accent runs on
  const size_t units = trie_bytes / 4;
  ACCENT_CHECK(4 + units * 4 <= blob_.size(), "Precompiled normalizer: the charsmap's trie (", trie_bytes,
               " bytes) is longer than the charsmap (", blob_.size(), " bytes)");
  trie_.resize(units);
  std::memcpy(trie_.data(), blob_.data() + 4, units * 4);
  normalized_ = blob_.substr(4 + units * 4);
  ACCENT_CHECK(is_valid_utf8(normalized_), "Precompiled normalizer: the charsmap's replacement strings are not UTF-8");
  ACCENT_CHECK(!trie_.empty(), "Precompiled normalizer: the charsmap's trie is empty");
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  const size_t n = trie_.size();
  uint64_t node = offset(trie_[0]);
  for (unsigned char c : chunk) {
    if (c == 0) break;
    node ^= c;
    if (node >= n) return std::nullopt;  // (spm_precompiled would index out of bounds: a malformed trie)
    const uint64_t unit = trie_[node];
    if (label(unit) != c) return std::nullopt;
    node ^= offset(unit);
    if (node >= n) return std::nullopt;
    if (has_leaf(unit)) {
      const uint64_t index = value(trie_[node]);
      if (index > normalized_.size()) return std::nullopt;
      const std::string_view tail = std::string_view(normalized_).substr(index);
      return tail.substr(0, tail.find('\0'));
    }
  }
  return std::nullopt;
}

}  // namespace accent::text
