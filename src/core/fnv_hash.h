// core/fnv_hash.h — 64-bit FNV-1a: a fast change detector for data, weights and settings (not a security hash).
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>

namespace accent {

// FNV-1a of `n` bytes continued from `h` (0 starts a new hash).
inline uint64_t fnv1a64_bytes(const void* data, size_t n, uint64_t h = 0) {
  if (h == 0) h = 1469598103934665603ull;
  const auto* p = static_cast<const unsigned char*>(data);
  for (size_t i = 0; i < n; ++i) {
    h ^= p[i];
    h *= 1099511628211ull;
  }
  return h;
}
inline uint64_t fnv1a64(std::string_view bytes, uint64_t h = 0) { return fnv1a64_bytes(bytes.data(), bytes.size(), h); }

}  // namespace accent
