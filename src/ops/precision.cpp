#include "ops/precision.h"

#include "ops/cuda/kernels.h"

#include <cpuid.h>

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <set>
#include <string>
#include <utility>

#include "core/dtype.h"
#include "core/error.h"

namespace accent {

namespace {
// cpuid leaf 7: sub-leaf 0 EDX bit 22 = AMX-BF16; sub-leaf 1 EAX bit 5 = AVX512_BF16. The OS must also have
// enabled the AVX-512 state (XCR0 bits 5-7, plus 1-2); AMX tiles additionally need XCR0 bits 17-18.
struct Features {
  bool amx_bf16 = false, avx512_bf16 = false;
};
Features detect() {
  Features f;
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid_max(0, nullptr) < 7) return f;
  __cpuid(1, a, b, c, d);
  if (!(c & (1u << 27))) return f;  // no OSXSAVE: xgetbv unavailable
  unsigned xlo = 0, xhi = 0;
  __asm__ volatile("xgetbv" : "=a"(xlo), "=d"(xhi) : "c"(0));
  const bool os_avx512 = (xlo & 0xE6u) == 0xE6u;
  const bool os_amx = (xlo & (3u << 17)) == (3u << 17);
  __cpuid_count(7, 0, a, b, c, d);
  const bool amx = (d >> 22) & 1u;
  __cpuid_count(7, 1, a, b, c, d);
  const bool avx512bf16 = (a >> 5) & 1u;
  f.amx_bf16 = amx && os_amx;
  f.avx512_bf16 = avx512bf16 && os_avx512;
  return f;
}
const Features& features() {
  static const Features f = detect();
  return f;
}
}  // namespace

bool cpu_has_amx_bf16() { return features().amx_bf16; }
bool cpu_has_avx512_bf16() { return features().avx512_bf16; }
bool cpu_has_fast_bf16() { return cpu_has_amx_bf16() || cpu_has_avx512_bf16(); }

Precision resolve_precision(std::string_view requested) {
  std::string want(requested);
  if (const char* env = std::getenv("ACCENT_PRECISION"); env != nullptr && *env != '\0') want = env;
  if (want == "fp32" || want == "f32" || want == "float32") return Precision::F32;
  if (want == "bf16" || want == "bfloat16") return Precision::BF16;
  if (want == "auto" || want.empty()) return cpu_has_fast_bf16() ? Precision::BF16 : Precision::F32;
  fail("unknown precision '", want, "' (expected auto, bf16 or fp32", requested != want ? "; from ACCENT_PRECISION" : "",
       ")");
}

int physical_core_count() {
  std::set<std::pair<int, int>> cores;  // (package, core id)
  const long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  for (long cpu = 0; cpu < cpus; ++cpu) {
    const std::string dir = "/sys/devices/system/cpu/cpu" + std::to_string(cpu) + "/topology/";
    std::ifstream core(dir + "core_id"), package(dir + "physical_package_id");
    int c = -1, p = -1;
    if (!(core >> c) || !(package >> p)) return cpus > 0 ? static_cast<int>(cpus) : 1;
    cores.emplace(p, c);
  }
  return cores.empty() ? 1 : static_cast<int>(cores.size());
}

void convert_f32_to_bf16(const float* src, uint16_t* dst, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > (1 << 15))
  for (int64_t i = 0; i < n; ++i) dst[i] = f32_to_bf16(src[i]);
}

void convert_f32_to_bf16(const OpContext& ctx, const float* src, uint16_t* dst, int64_t n) {
  if (ctx.backend == Backend::Cuda) return ACCENT_ON_CUDA(convert_f32_to_bf16, src, dst, n);
  convert_f32_to_bf16(src, dst, n);
}

void round_to_bf16(float* x, int64_t n) {
  for (int64_t i = 0; i < n; ++i) x[i] = bf16_to_f32(f32_to_bf16(x[i]));
}

}  // namespace accent
