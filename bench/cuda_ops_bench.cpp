// bench/cuda_ops_bench.cpp — each CUDA op of accent at bert-base training shapes (B=32, T=128: 4096 rows, H=768,
// I=3072, 12 heads of 64), timed on the GPU: milliseconds per call and the rate it reaches — TFLOP/s for matmuls
// (against the GPU's bf16 ceiling, ~790 TFLOP/s on an H200 measured by bench/torch_gpu_bench.py) and GB/s of
// compulsory traffic for the memory-bound kernels (against ~4.3 TB/s copy bandwidth). Says where the kernels
// stand before a whole model runs on the GPU. One JSON line per op.
//
//   build/cuda_ops_bench [--reps 50]
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "core/rng.h"
#include "ops/activation.h"
#include "ops/add_layernorm.h"
#include "ops/attention_softmax.h"
#include "ops/cuda/device.h"
#include "ops/embedding_layernorm.h"
#include "ops/layernorm.h"
#include "ops/matmul.h"
#include "ops/multi_tensor.h"

using namespace accent;

namespace {

cuda::DeviceBuffer random_device(int64_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> host(static_cast<size_t>(n));
  for (auto& x : host) x = scale * rng.normal();
  cuda::DeviceBuffer buf(host.size() * sizeof(float));
  cuda::upload(buf.get(), host.data(), host.size() * sizeof(float));
  return buf;
}

// Seconds per call: `reps` calls after 3 warm-ups, one synchronisation around the timed calls.
double time_op(const std::function<void()>& op, int reps) {
  for (int i = 0; i < 3; ++i) op();
  cuda::synchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < reps; ++i) op();
  cuda::synchronize();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / reps;
}

void report(const char* op, double seconds, double flops, double bytes) {
  std::printf("{\"op\": \"%s\", \"ms\": %.4f", op, seconds * 1e3);
  if (flops > 0) std::printf(", \"tflops\": %.1f", flops / seconds / 1e12);
  if (bytes > 0) std::printf(", \"gb_per_s\": %.0f", bytes / seconds / 1e9);
  std::printf("}\n");
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 50;
  for (int i = 1; i + 1 < argc; ++i)
    if (std::strcmp(argv[i], "--reps") == 0) reps = std::atoi(argv[i + 1]);
  const auto& status = cuda::probe_device();
  if (!status.usable) {
    std::printf("{\"skipped\": \"%s\"}\n", status.description.c_str());
    return 0;
  }
  std::printf("{\"gpu\": \"%s\"}\n", status.description.c_str());
  const OpContext f32{Backend::Cuda, Precision::F32};
  const OpContext bf16{Backend::Cuda, Precision::BF16};
  const int64_t B = 32, T = 128, H = 768, I = 3072, NH = 12, D = 64, rows = B * T;
  auto x = random_device(rows * I, 1), w = random_device(I * H, 2), bias = random_device(I, 3);
  auto y = random_device(rows * I, 4), dw = random_device(I * H, 5), gamma = random_device(H, 6, 0.1f);
  auto y2 = random_device(rows * I, 12);
  auto big = random_device(B * NH * T * T, 7), big2 = random_device(B * NH * T * T, 8);
  auto mean = random_device(rows, 9), rstd = random_device(rows, 10, 0.1f), mask = random_device(B * T, 11, 0.0f);
  const double f4 = sizeof(float);

  for (const auto& [name, ctx] : {std::pair{"bf16", bf16}, std::pair{"fp32", f32}}) {
    const double flops = 2.0 * rows * H * I;
    report((std::string("linear_forward_ffn_up_") + name).c_str(),
           time_op([&] {
             linear_forward(ctx, x.as<float>(), w.as<float>(), bias.as<float>(), y.as<float>(), rows, H, I);
           }, reps),
           flops, 0);
    report((std::string("linear_backward_input_ffn_up_") + name).c_str(),
           time_op([&] { linear_backward_input(ctx, y.as<float>(), w.as<float>(), x.as<float>(), rows, H, I); }, reps),
           flops, 0);
    report((std::string("linear_backward_weight_ffn_up_") + name).c_str(),
           time_op([&] {
             linear_backward_weight(ctx, x.as<float>(), y.as<float>(), dw.as<float>(), bias.as<float>(), rows, H, I);
           }, reps),
           flops, 0);
  }
  {
    GemmShape s{B * NH, T, T, D, false, true};  // scores = Q·Kᵀ per head
    report("attention_scores_bf16",
           time_op([&] { gemm(bf16, s, x.as<float>(), y.as<float>(), nullptr, big.as<float>(), false); }, reps),
           2.0 * B * NH * T * T * D, 0);
  }
  const AttentionDims dims{B, NH, T, T};
  const int64_t n_scores = B * NH * T * T;
  Rng rng(1);
  const DropoutDraw draw = dropout_draw(0.1f, &rng, n_scores);
  report("attention_softmax_dropout_forward",
         time_op([&] {
           attention_softmax_dropout_forward(f32, big.as<float>(), mask.as<float>(), big.as<float>(), big2.as<float>(),
                                             dims, 8.0f, draw);
         }, reps),
         0, 3 * n_scores * f4);
  report("attention_softmax_dropout_backward",
         time_op([&] {
           attention_softmax_dropout_backward(f32, big.as<float>(), big2.as<float>(), big2.as<float>(), dims, 8.0f,
                                              draw);
         }, reps),
         0, 3 * n_scores * f4);
  const DropoutDraw hdraw = dropout_draw(0.1f, &rng, rows * H);
  report("add_layernorm_forward",
         time_op([&] {
           add_layernorm_forward(f32, x.as<float>(), y.as<float>(), hdraw, gamma.as<float>(), bias.as<float>(),
                                 big.as<float>(), big2.as<float>(), mean.as<float>(), rstd.as<float>(), rows, H,
                                 1e-12f);
         }, reps),
         0, 4 * rows * H * f4);
  report("add_layernorm_backward",
         time_op([&] {
           add_layernorm_backward(f32, x.as<float>(), big.as<float>(), gamma.as<float>(), mean.as<float>(),
                                  rstd.as<float>(), hdraw, y.as<float>(), big.as<float>(), dw.as<float>(),
                                  bias.as<float>(), rows, H);
         }, reps),
         0, 5 * rows * H * f4);
  report("gelu_forward_with_derivative",
         time_op([&] {
           activation_forward_with_derivative(f32, Activation::Gelu, x.as<float>(), y.as<float>(), y2.as<float>(),
                                              rows * I);
         }, reps),
         0, 3 * rows * I * f4);
  {
    // AdamW over bert-base's parameter tensors (110M values in ~200 tensors, here 12 layers of 16 + embeddings).
    std::vector<int64_t> sizes{30522 * H, 512 * H, 2 * H, H, H};
    for (int l = 0; l < 12; ++l)
      for (int64_t s : {H * H, H, H * H, H, H * H, H, H * H, H, H, H, I * H, I, H * I, H, H, H}) sizes.push_back(s);
    int64_t total = 0;
    for (int64_t s : sizes) total += s;
    cuda::DeviceBuffer p(total * sizeof(float)), g(total * sizeof(float)), m(total * sizeof(float)),
        v(total * sizeof(float));
    cuda::fill_zero(p.get(), p.bytes());
    cuda::fill_zero(g.get(), g.bytes());
    cuda::fill_zero(m.get(), m.bytes());
    cuda::fill_zero(v.get(), v.bytes());
    std::vector<AdamWTensor> tensors;
    std::vector<GradTensor> grads;
    int64_t off = 0;
    for (int64_t s : sizes) {
      tensors.push_back({p.as<float>() + off, g.as<float>() + off, m.as<float>() + off, v.as<float>() + off, s, 1.0f});
      grads.push_back({g.as<float>() + off, s});
      off += s;
    }
    AdamWScalars sc;
    report("adamw_update_bert_base",
           time_op([&] { adamw_update(f32, tensors.data(), static_cast<int>(tensors.size()), sc); }, reps), 0,
           7.0 * total * f4);
    report("global_grad_norm_bert_base",
           time_op([&] { global_grad_norm(f32, grads.data(), static_cast<int>(grads.size())); }, reps), 0,
           1.0 * total * f4);
  }
  return 0;
}
