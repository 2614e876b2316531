// bench/cuda_step_bench.cpp — a whole bert-base training step and inference on the GPU (Backend::Cuda), the numbers
// issue 11 compares with PyTorch on the same GPU (bench/torch_gpu_bench.py, same shapes and step):
//   - one training step: forward + backward (dropout on), clip_grad_norm 1.0, AdamW (weight decay 0.01 on
//     matrices), zero_grad — at B=16 and 32, T=128, bf16 mixed precision (fp32 master weights);
//   - inference at batch 32 (T=128) and one sentence (T=25).
// bert-base-uncased's shape with random weights. Times are medians of wall-clock repetitions after warm-up; each
// repetition ends with the loss / logits copied to the host, so the GPU has finished. Prints JSON lines.
//
//   build/cuda_step_bench [--reps 10] [--precision bf16|fp32] [--family bert]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "models/registry.h"
#include "ops/cuda/device.h"
#include "random_batch.h"
#include "train/adamw.h"
#include "train/grad_clip.h"

using namespace accent;

namespace {

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

template <typename F>
double time_median(F&& fn, int warmup, int reps) {
  for (int i = 0; i < warmup; ++i) fn();
  std::vector<double> t;
  for (int i = 0; i < reps; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    fn();
    t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  return median(t);
}

// Matmul FLOPs of one training step (forward + both backward products = 3× forward), as torch_gpu_bench.py counts.
double bert_train_flops(int64_t B, int64_t T, int64_t H = 768, int64_t I = 3072, int64_t L = 12) {
  const double linear = 2.0 * B * T * (4.0 * H * H + 2.0 * H * I) * L;
  const double attention = 2.0 * 2.0 * B * T * T * H * L;
  return 3.0 * (linear + attention);
}

}  // namespace

int main(int argc, char** argv) {
  int reps = 10;
  std::string precision_arg = "bf16", family = "bert";
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--reps" && i + 1 < argc) reps = std::atoi(argv[++i]);
    else if (a == "--precision" && i + 1 < argc) precision_arg = argv[++i];
    else if (a == "--family" && i + 1 < argc) family = argv[++i];
    else {
      std::fprintf(stderr, "usage: %s [--reps N] [--precision bf16|fp32] [--family bert]\n", argv[0]);
      return 2;
    }
  }
  if (!cuda::probe_device().usable) {
    std::printf("{\"skipped\": \"no GPU: %s\"}\n", cuda::probe_device().description.c_str());
    return 0;
  }
  const OpContext ctx{Backend::Cuda, precision_arg == "fp32" ? Precision::F32 : Precision::BF16};
  ModelConfig config;  // bert-base-uncased: V=30522, H=768, 12 layers, 12 heads, I=3072, P=512
  config.model_type = family;
  config.pad_token_id = 0;
  config.set_num_labels(2);
  config.problem_type = "single_label_classification";
  std::printf("{\"gpu\": \"%s\", \"precision\": \"%s\"}\n", cuda::probe_device().description.c_str(),
              precision_name(ctx.precision));

  for (int64_t B : {16, 32}) {
    const int64_t T = 128;
    auto model = create_sequence_classifier(config, 0);
    model->set_op_context(ctx);
    const ParameterList params = model->parameters();
    AdamWOptions opt;
    opt.weight_decay = 0.01;
    AdamW optimizer(params, opt, ctx);
    const Batch batch = bench::random_batch(B, T, 1, 3);
    Rng rng(2);
    const auto t_first = std::chrono::steady_clock::now();
    auto step = [&] {
      model->forward_backward(batch, rng);
      clip_grad_norm(params, 1.0, ctx);
      optimizer.step(2e-5);
      optimizer.zero_grad();
    };
    step();
    cuda::synchronize();
    const double first = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_first).count();
    const uint64_t allocations = cuda::allocation_count();
    const double t = time_median(step, 2, reps);
    cuda::synchronize();
    const double flops = bert_train_flops(B, T);
    std::printf("{\"train\": {\"B\": %lld, \"T\": %lld, \"ms_per_step\": %.3f, \"first_step_s\": %.2f, "
                "\"tflops\": %.1f, \"cuda_mallocs_after_first_step\": %llu}}\n",
                static_cast<long long>(B), static_cast<long long>(T), t * 1e3, first, flops / t / 1e12,
                static_cast<unsigned long long>(cuda::allocation_count() - allocations));
    std::fflush(stdout);
  }

  auto model = create_sequence_classifier(config, 0);
  model->set_op_context(ctx);
  for (auto [B, T] : {std::pair<int64_t, int64_t>{32, 128}, {1, 25}}) {
    const Batch batch = bench::random_batch(B, T, 3, 3);
    const double t = time_median([&] { model->forward(batch); }, 5, reps * 2);
    std::printf("{\"infer\": {\"B\": %lld, \"T\": %lld, \"ms\": %.3f, \"sentences_per_s\": %.1f}}\n",
                static_cast<long long>(B), static_cast<long long>(T), t * 1e3, static_cast<double>(B) / t);
    std::fflush(stdout);
  }
  return 0;
}
