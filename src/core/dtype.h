// core/dtype.h — element types and the scalar conversions between them.
#pragma once
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace accent {

// The element types accent stores. Names follow safetensors' dtype strings.
enum class DType : uint8_t { F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL, U16, U32, U64 };

// Size of one element in bytes.
size_t dtype_size(DType t);
// safetensors spelling: "F32", "BF16", ...
std::string_view dtype_name(DType t);
// Parses a safetensors dtype string; returns false for strings accent does not handle.
bool dtype_from_name(std::string_view name, DType* out);

// bf16 = the top 16 bits of an IEEE fp32. Conversion rounds to nearest even (NaN stays NaN, made quiet). Written
// branch-free, so the loops that call it vectorise (ops/precision.h convert_f32_to_bf16, AdamW's refresh of a bf16
// weight copy in ops/multi_tensor.cpp).
inline uint16_t f32_to_bf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, 4);
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>(nan ? ((u >> 16) | 0x40u) : rounded);
}
inline float bf16_to_f32(uint16_t h) {
  uint32_t u = static_cast<uint32_t>(h) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
// IEEE binary16 <-> fp32, round to nearest even; subnormals, infinities and NaN handled.
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);

}  // namespace accent
