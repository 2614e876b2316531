// core/base64.cpp — see base64.h. Three bytes become four 6-bit symbols; a short last group is padded with '='.
#include "core/base64.h"

#include <cstdint>

namespace accent {
namespace {
constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int symbol_value(char c) {
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}
}  // namespace

std::string base64_encode(std::string_view bytes) {
  std::string out;
  out.reserve((bytes.size() + 2) / 3 * 4);
  for (size_t i = 0; i < bytes.size(); i += 3) {
    const size_t n = bytes.size() - i < 3 ? bytes.size() - i : 3;
    uint32_t group = 0;
    for (size_t k = 0; k < 3; ++k)
      group = (group << 8) | (k < n ? static_cast<unsigned char>(bytes[i + k]) : 0u);
    for (size_t k = 0; k < 4; ++k) out.push_back(k <= n ? kAlphabet[(group >> (18 - 6 * k)) & 63] : '=');
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (size_t i = 0; i < text.size(); i += 4) {
    const bool last = i + 4 == text.size();
    size_t pad = 0;
    if (last) pad = (text[i + 3] == '=') + (text[i + 3] == '=' && text[i + 2] == '=');
    uint32_t group = 0;
    for (size_t k = 0; k < 4; ++k) {
      int v = 0;
      if (k < 4 - pad) {
        v = symbol_value(text[i + k]);
        if (v < 0) return std::nullopt;
      }
      group = (group << 6) | static_cast<uint32_t>(v);
    }
    // Canonical only: the bits of the last symbol that padding leaves unused must be zero.
    if (pad == 1 && (group & 0xFF) != 0) return std::nullopt;
    if (pad == 2 && (group & 0xFFFF) != 0) return std::nullopt;
    for (size_t k = 0; k < 3 - pad; ++k) out.push_back(static_cast<char>((group >> (16 - 8 * k)) & 0xFF));
  }
  return out;
}

}  // namespace accent
