// bench/bf16_peak_bench.cpp — the CPU's own bf16 ceiling: how many FLOP/s the AVX512-BF16 dot-product instruction
// (vdpbf16ps: 16 fp32 lanes, each += a pair of bf16 products = 64 FLOPs per 512-bit instruction) sustains when
// nothing else runs — 16 independent accumulators per thread, operands in registers, no memory traffic — next to
// oneDNN's bf16 matmul on the 2048×768×3072 product of a bert-base FFN, measured in the same run. A matmul cannot
// beat the first number; the second is how close oneDNN gets. (AMX, which the 0.65–0.9 TFLOP/s assumes,
// would be a different instruction: this bench reports whether the CPU has it.)
//
//   build/bf16_peak_bench [--threads 2] [--seconds 2]
#include <immintrin.h>
#include <omp.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "ops/matmul.h"
#include "ops/precision.h"

using namespace accent;

namespace {

constexpr int kAccumulators = 16;

// `iterations` rounds of kAccumulators independent vdpbf16ps; returns a value depending on every result so the
// compiler keeps the work.
__attribute__((target("avx512f,avx512bf16"))) float dpbf16_loop(int64_t iterations) {
  __m512 acc[kAccumulators];
  for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_set1_ps(0.0f);
  const __m512bh a = (__m512bh)_mm512_set1_epi16(0x3f80);  // bf16 1.0
  const __m512bh b = (__m512bh)_mm512_set1_epi16(0x3a80);  // bf16 ~0.00098: sums stay finite
  for (int64_t it = 0; it < iterations; ++it) {
#pragma GCC unroll 16
    for (int i = 0; i < kAccumulators; ++i) acc[i] = _mm512_dpbf16_ps(acc[i], a, b);
  }
  __m512 total = acc[0];
  for (int i = 1; i < kAccumulators; ++i) total = _mm512_add_ps(total, acc[i]);
  return _mm512_reduce_add_ps(total);
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int threads = 2;
  double seconds = 2.0;
  for (int i = 1; i < argc; ++i) {
    if (!std::strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = std::atoi(argv[++i]);
    } else if (!std::strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = std::atof(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: bf16_peak_bench [--threads N] [--seconds S]\n");
      return 2;
    }
  }
  std::printf("cpu: avx512_bf16 %s, amx_bf16 %s\n", cpu_has_avx512_bf16() ? "yes" : "no",
              cpu_has_amx_bf16() ? "yes" : "no");
  if (!cpu_has_avx512_bf16()) {
    std::printf("RESULT no AVX512-BF16 on this CPU: nothing to measure\n");
    return 0;
  }
  omp_set_num_threads(threads);

  // Instruction ceiling: calibrate iterations to ~`seconds`, then time all threads together.
  int64_t iterations = 1 << 20;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    volatile float sink = dpbf16_loop(iterations);
    (void)sink;
    if (seconds_since(t0) > seconds / 4) break;
    iterations *= 2;
  }
  std::vector<float> sinks(static_cast<size_t>(threads));
  const auto t0 = std::chrono::steady_clock::now();
#pragma omp parallel num_threads(threads)
  sinks[static_cast<size_t>(omp_get_thread_num())] = dpbf16_loop(iterations);
  const double elapsed = seconds_since(t0);
  const double flops = 64.0 * kAccumulators * static_cast<double>(iterations) * threads;
  const double peak = flops / elapsed / 1e12;
  std::printf("RESULT vdpbf16ps ceiling, %d threads: %.3f TFLOP/s (%.1f GFLOP/s per thread; sink %g)\n", threads, peak,
              1e3 * peak / threads, static_cast<double>(sinks[0]));

  // oneDNN's bf16 matmul on the FFN product (K = 768, N = 3072) at M = 16·128 tokens (a training batch, as
  // train_step_bench measures it) and M = 25 tokens (one SST-2 sentence: what single-sentence latency runs).
  for (const int64_t M : {int64_t{2048}, int64_t{25}}) {
    const int64_t K = 768, N = 3072;
    std::vector<float> A(static_cast<size_t>(M * K), 0.01f), C(static_cast<size_t>(M * N));
    std::vector<uint16_t> B(static_cast<size_t>(K * N));
    std::vector<float> B32(B.size(), 0.02f);
    convert_f32_to_bf16(B32.data(), B.data(), static_cast<int64_t>(B.size()));
    OpContext ctx{Backend::Cpu, Precision::BF16};
    GemmShape shape;
    shape.M = M, shape.N = N, shape.K = K, shape.trans_b = true;  // as Linear: x · Wᵀ, W (N, K) in bf16
    gemm_bf16_weights(ctx, shape, A.data(), B.data(), nullptr, C.data(), false);  // primitive creation, warm-up
    int reps = 0;
    const auto t1 = std::chrono::steady_clock::now();
    while (seconds_since(t1) < seconds) {
      gemm_bf16_weights(ctx, shape, A.data(), B.data(), nullptr, C.data(), false);
      ++reps;
    }
    const double elapsed = seconds_since(t1);
    const double matmul = 2.0 * M * N * K * reps / elapsed / 1e12;
    std::printf("RESULT onednn bf16 matmul %lldx768x3072 (bf16 weights, as Linear): %.3f TFLOP/s = %.0f%% of the "
                "vdpbf16ps ceiling; %.3f ms per product, weights streamed at %.1f GB/s\n",
                static_cast<long long>(M), matmul, 100.0 * matmul / peak, 1e3 * elapsed / reps,
                2.0 * K * N * reps / elapsed / 1e9);
  }
  return 0;
}
