// ops/precision.h — choosing the matmul precision (fp32 or bf16 mixed precision) and converting to bf16.
//
// Mixed precision in accent (the policy of torch.autocast("cpu", dtype=torch.bfloat16) for the ops BERT uses):
// matmul operands are rounded to bf16 and multiplied on the CPU's bf16 units (AMX or AVX512-BF16, through
// oneDNN) with fp32 accumulation and an fp32 result; everything else — LayerNorm, softmax, GELU, dropout,
// losses, reductions, gradients, master weights, AdamW state — stays fp32. OpContext::precision == BF16 selects
// this; ops other than matmuls accept it and compute in fp32.
#pragma once
#include <cstdint>
#include <string_view>

#include "ops/backend.h"

namespace accent {

// The CPU has bf16 dot-product instructions oneDNN uses for bf16 matmul (AMX-BF16 or AVX512_BF16), from cpuid.
bool cpu_has_amx_bf16();
bool cpu_has_avx512_bf16();
bool cpu_has_fast_bf16();

// "auto" | "bf16" | "fp32" (also "f32", "float32", "bfloat16") → Precision. auto = BF16 when cpu_has_fast_bf16().
// The environment variable ACCENT_PRECISION=fp32 (or bf16/auto) overrides the request — e.g. to force the fp32
// path on a machine that has bf16 units, as a CPU without them would run. Throws on an unknown spelling.
// "bf16" on a CPU without bf16 units still works (oneDNN emulates it), only slowly.
Precision resolve_precision(std::string_view requested);

// Physical cores of this machine (distinct core ids per package in /sys; falls back to the online CPU count):
// the default thread count (a hyper-thread pair shares one core's AMX/AVX-512 units).
int physical_core_count();

// dst[i] = bf16(src[i]), round to nearest even (NaN stays NaN); parallel and vectorised.
void convert_f32_to_bf16(const float* src, uint16_t* dst, int64_t n);
// The same in ctx's memory (on the GPU for Backend::Cuda).
void convert_f32_to_bf16(const OpContext& ctx, const float* src, uint16_t* dst, int64_t n);
// In place: x[i] = float(bf16(x[i])) — what a value looks like after a trip through bf16 (used by ref paths).
void round_to_bf16(float* x, int64_t n);

}  // namespace accent
