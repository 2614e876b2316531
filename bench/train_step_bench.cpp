// bench/train_step_bench.cpp — time of one training step (forward + backward, fp32) of a bert-base-shaped
// BertForSequenceClassification with random weights, and the process's peak RSS.
//
//   build-*/train_step_bench [--batch 16] [--seq 128] [--steps 3] [--threads 2] [--layers 12] [--ref]
// The PyTorch side of the comparison is bench/torch_step.py (same shapes, same dropout, torch.set_num_threads).
// Timing lives here, never in tests.
#include <omp.h>
#include <sys/resource.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "models/registry.h"

using namespace accent;

int main(int argc, char** argv) {
  int64_t B = 16, T = 128, steps = 3, threads = 2, layers = 12;
  bool use_ref = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoll(argv[++i]) : 0; };
    if (a == "--batch") B = next();
    else if (a == "--seq") T = next();
    else if (a == "--steps") steps = next();
    else if (a == "--threads") threads = next();
    else if (a == "--layers") layers = next();
    else if (a == "--ref") use_ref = true;
    else {
      std::fprintf(stderr, "usage: %s [--batch B] [--seq T] [--steps N] [--threads N] [--layers L] [--ref]\n", argv[0]);
      return 2;
    }
  }
  omp_set_num_threads(static_cast<int>(threads));

  ModelConfig config;  // BERT-base defaults: V=30522, H=768, 12 layers, 12 heads, I=3072, P=512
  config.model_type = "bert";
  config.num_hidden_layers = layers;
  config.pad_token_id = 0;
  config.set_num_labels(2);
  config.problem_type = "single_label_classification";
  auto model = create_sequence_classifier(config, 0);
  if (use_ref) model->set_op_context(OpContext{Backend::Ref, Precision::F32});

  Batch batch;
  batch.B = B, batch.T = T;
  Rng data_rng(1);
  for (int64_t i = 0; i < B * T; ++i) {
    batch.input_ids.push_back(static_cast<int32_t>(1 + data_rng.below(30000)));
    batch.token_type_ids.push_back(i % T < T / 2 ? 0 : 1);
    batch.attention_mask.push_back(1);
  }
  for (int64_t b = 0; b < B; ++b) batch.class_labels.push_back(static_cast<int64_t>(b % 2));

  Rng dropout_rng(2);
  std::printf("accent train step: bert-base shape (%lld layers), B=%lld T=%lld, fp32, %lld threads, backend %s\n",
              static_cast<long long>(layers), static_cast<long long>(B), static_cast<long long>(T),
              static_cast<long long>(threads), use_ref ? "ref" : "cpu");
  double total = 0.0, best = 1e30;
  for (int64_t s = 0; s <= steps; ++s) {  // step 0 = warm-up (buffers, oneDNN primitives)
    for (Parameter* p : model->parameters()) p->grad.zero();
    const auto t0 = std::chrono::steady_clock::now();
    const ForwardResult r = model->forward_backward(batch, dropout_rng);
    const double sec = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("  step %lld%s: %.3f s  (loss %.5f)\n", static_cast<long long>(s), s == 0 ? " (warm-up)" : "", sec,
                r.loss);
    if (s > 0) total += sec, best = sec < best ? sec : best;
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("RESULT accent: mean %.3f s/step, best %.3f s/step, peak RSS %.0f MiB\n",
              steps > 0 ? total / static_cast<double>(steps) : 0.0, best, usage.ru_maxrss / 1024.0);
  return 0;
}
