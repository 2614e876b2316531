// io/safetensors_dtype.h — every dtype string of the safetensors format, its width in bits, the reference writer's
// sort rank, and the decoders accent uses for the types core::DType does not hold (F8 variants).
//
// Spec: the shared spec, spec/checkpoints.md §1. The rank is the position in safetensors' Rust `Dtype` enum
// (BOOL < F4 < F6_E2M3 < F6_E3M2 < U8 < I8 < F8_E5M2 < F8_E4M3 < F8_E8M0 < I16 < U16 < F16 < BF16 < I32 < U32 <
// F32 < C64 < F64 < I64 < U64); the writer sorts tensors by rank descending, then by name.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/dtype.h"

namespace accent {

struct SafetensorsDTypeInfo {
  std::string_view name;       // "F32", "F8_E4M3", ...
  int bits;                    // element width in bits (F6 = 6, F4 = 4)
  int rank;                    // position in the Rust Dtype enum (writer order)
  std::optional<DType> accent; // the core DType with the same layout, if accent has one
};

// Looks up a safetensors dtype string; nullptr when the format does not define it.
const SafetensorsDTypeInfo* safetensors_dtype_info(std::string_view name);
// The entry for a core DType (every core DType is a safetensors dtype).
const SafetensorsDTypeInfo& safetensors_dtype_info(DType dtype);

// Decodes one 8-bit float to f32. Supported: F8_E4M3 (e4m3fn: no inf, S.1111.111 = NaN), F8_E5M2 (IEEE-like),
// F8_E4M3FNUZ / F8_E5M2FNUZ (bias +1, no inf, 0x80 = NaN), F8_E8M0 (2^(e−127), 0xff = NaN).
// Returns false for names that are not one of these.
bool f8_decoder_exists(std::string_view name);
float f8_to_f32(std::string_view name, uint8_t bits);

}  // namespace accent
