#include "io/safetensors_dtype.h"

#include <cmath>

#include "core/error.h"

namespace accent {

namespace {
const SafetensorsDTypeInfo kTypes[] = {
    {"BOOL", 8, 0, DType::BOOL},       {"F4", 4, 1, std::nullopt},        {"F6_E2M3", 6, 2, std::nullopt},
    {"F6_E3M2", 6, 3, std::nullopt},   {"U8", 8, 4, DType::U8},           {"I8", 8, 5, DType::I8},
    {"F8_E5M2", 8, 6, std::nullopt},   {"F8_E4M3", 8, 7, std::nullopt},   {"F8_E8M0", 8, 8, std::nullopt},
    {"I16", 16, 9, DType::I16},        {"U16", 16, 10, DType::U16},       {"F16", 16, 11, DType::F16},
    {"BF16", 16, 12, DType::BF16},     {"I32", 32, 13, DType::I32},       {"U32", 32, 14, DType::U32},
    {"F32", 32, 15, DType::F32},       {"C64", 64, 16, std::nullopt},     {"F64", 64, 17, DType::F64},
    {"I64", 64, 18, DType::I64},       {"U64", 64, 19, DType::U64},
    // Variants newer than the Rust enum above still have a defined size; ranked beside their family.
    {"F8_E4M3FNUZ", 8, 7, std::nullopt}, {"F8_E5M2FNUZ", 8, 6, std::nullopt},
};
}  // namespace

const SafetensorsDTypeInfo* safetensors_dtype_info(std::string_view name) {
  for (const auto& t : kTypes)
    if (t.name == name) return &t;
  return nullptr;
}

const SafetensorsDTypeInfo& safetensors_dtype_info(DType dtype) {
  for (const auto& t : kTypes)
    if (t.accent && *t.accent == dtype) return t;
  fail("safetensors: no dtype string for ", dtype_name(dtype));
}

bool f8_decoder_exists(std::string_view name) {
  return name == "F8_E4M3" || name == "F8_E5M2" || name == "F8_E4M3FNUZ" || name == "F8_E5M2FNUZ" ||
         name == "F8_E8M0";
}

namespace {
// Generic minifloat with `exp_bits` exponent bits, `man_bits` mantissa bits and exponent bias `bias`;
// subnormals when the exponent field is 0.
float decode_minifloat(uint8_t v, int exp_bits, int man_bits, int bias) {
  const bool negative = (v >> (exp_bits + man_bits)) & 1;
  const int e = (v >> man_bits) & ((1 << exp_bits) - 1);
  const int m = v & ((1 << man_bits) - 1);
  float magnitude = e == 0 ? std::ldexp(static_cast<float>(m), 1 - bias - man_bits)
                           : std::ldexp(static_cast<float>(m | (1 << man_bits)), e - bias - man_bits);
  return negative ? -magnitude : magnitude;
}
}  // namespace

float f8_to_f32(std::string_view name, uint8_t v) {
  if (name == "F8_E4M3") {  // torch.float8_e4m3fn: no infinities, only S.1111.111 is NaN
    if ((v & 0x7f) == 0x7f) return NAN;
    return decode_minifloat(v, 4, 3, 7);
  }
  if (name == "F8_E5M2") {  // IEEE-style: exponent 31 = inf/NaN
    if (((v >> 2) & 0x1f) == 0x1f) return (v & 3) ? NAN : ((v & 0x80) ? -INFINITY : INFINITY);
    return decode_minifloat(v, 5, 2, 15);
  }
  if (name == "F8_E4M3FNUZ") {  // bias 8, 0x80 is the only NaN, no negative zero
    if (v == 0x80) return NAN;
    return decode_minifloat(v, 4, 3, 8);
  }
  if (name == "F8_E5M2FNUZ") {
    if (v == 0x80) return NAN;
    return decode_minifloat(v, 5, 2, 16);
  }
  if (name == "F8_E8M0") {  // unsigned power of two (MX scale)
    if (v == 0xff) return NAN;
    return std::ldexp(1.0f, static_cast<int>(v) - 127);
  }
  fail("safetensors: no f32 decoder for dtype ", name);
}

}  // namespace accent
