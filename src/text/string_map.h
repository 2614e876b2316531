// text/string_map.h — a flat open-addressing hash map from byte strings to int32 ids, looked up by
// std::string_view without allocating (vocabularies, the BPE word cache keys). Keys live in one arena.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace accent::text {

// 64-bit hash of a byte string (multiply-xorshift over 8-byte words; not cryptographic).
inline uint64_t hash_bytes(std::string_view s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  size_t n = s.size();
  uint64_t h = 0x9E3779B97F4A7C15ULL ^ (n * 0xC2B2AE3D27D4EB4FULL);
  while (n >= 8) {
    uint64_t w;
    std::memcpy(&w, p, 8);
    h = (h ^ (w * 0x87C37B91114253D5ULL)) * 0x4CF5AD432745937FULL;
    h ^= h >> 29;
    p += 8;
    n -= 8;
  }
  uint64_t w = 0;
  for (size_t k = 0; k < n; ++k) w |= static_cast<uint64_t>(p[k]) << (8 * k);
  h = (h ^ (w * 0x87C37B91114253D5ULL)) * 0x4CF5AD432745937FULL;
  h ^= h >> 32;
  h *= 0xD6E8FEB86659FD93ULL;
  h ^= h >> 32;
  return h;
}

class StringIdMap {
 public:
  StringIdMap() { rehash(16); }

  // Inserts or overwrites (a later duplicate wins, like vocab.txt and serde HashMap collection).
  void set(std::string_view key, int32_t value) {
    if ((size_ + 1) * 2 > slots_.size()) rehash(slots_.size() * 2);
    const uint64_t h = hash_bytes(key);
    size_t i = h & mask_;
    while (slots_[i].length != kEmpty) {
      if (slots_[i].hash == static_cast<uint32_t>(h) && key_of(slots_[i]) == key) {
        slots_[i].value = value;
        return;
      }
      i = (i + 1) & mask_;
    }
    slots_[i] = {static_cast<uint32_t>(arena_.size()), static_cast<uint32_t>(key.size()),
                 static_cast<uint32_t>(h), value};
    arena_.append(key);
    ++size_;
  }

  // Returns the id or -1.
  int32_t find(std::string_view key) const { return find_hashed(key, hash_bytes(key)); }
  int32_t find_hashed(std::string_view key, uint64_t h) const {
    size_t i = h & mask_;
    while (slots_[i].length != kEmpty) {
      if (slots_[i].hash == static_cast<uint32_t>(h) && slots_[i].length == key.size() &&
          std::memcmp(arena_.data() + slots_[i].offset, key.data(), key.size()) == 0)
        return slots_[i].value;
      i = (i + 1) & mask_;
    }
    return -1;
  }
  bool contains(std::string_view key) const { return find(key) >= 0; }
  size_t size() const { return size_; }
  void clear() {
    arena_.clear();
    size_ = 0;
    slots_.assign(16, Slot{});
    mask_ = 15;
  }

  template <typename F>
  void for_each(F&& f) const {  // f(string_view key, int32 value), arbitrary order
    for (const Slot& s : slots_)
      if (s.length != kEmpty) f(key_of(s), s.value);
  }

 private:
  static constexpr uint32_t kEmpty = 0xFFFFFFFFu;
  struct Slot {
    uint32_t offset = 0, length = kEmpty, hash = 0;
    int32_t value = -1;
  };
  std::string_view key_of(const Slot& s) const { return std::string_view(arena_).substr(s.offset, s.length); }
  void rehash(size_t capacity) {
    std::vector<Slot> old = std::move(slots_);
    slots_.assign(capacity, Slot{});
    mask_ = capacity - 1;
    for (const Slot& s : old) {
      if (s.length == kEmpty) continue;
      size_t i = s.hash & mask_;  // mask_ < 2^32, so the low 32 bits of the hash suffice
      while (slots_[i].length != kEmpty) i = (i + 1) & mask_;
      slots_[i] = s;
    }
  }

  std::vector<Slot> slots_;
  std::string arena_;
  size_t size_ = 0;
  size_t mask_ = 0;
};

}  // namespace accent::text
