// bench/lora_step_bench.cpp — one training step (forward + backward + AdamW) of a bert-base-shaped classifier,
// full fine-tuning vs LoRA (query,value, r=8 by default), with the optimizer-state and gradient-buffer bytes and
// the process's peak RSS. --mode interleaved builds both models and alternates their steps, so a loaded machine
// slows both alike (the step-time ratio); peak RSS is per process, so full and lora run alone for it.
// bench/compare_lora.sh runs all three. --family qwen2 builds Qwen2.5-0.5B's shape instead (Qwen2ForSequenceClassification,
// 24 layers, GQA 14/2, vocab 151936; LoRA on q_proj,v_proj by default), bench/compare_decoder_lora.sh times it
// against the PyTorch twin (bench/torch_decoder_lora_step.py). bf16_weight_conversions_per_step: bf16 weight copies re-made per timed
// step (full: each trained matrix once after its AdamW update; LoRA: 0, the frozen weights convert once).
//
//   build-*/lora_step_bench --mode full|lora|interleaved|cache-ab [--family bert|qwen2] [--batch 16] [--seq 128]
//                           [--steps 3] [--threads 2] [--layers 12 (qwen2: 24)]
//                           [--r 8] [--targets query,value] [--precision auto|bf16|fp32] [--weight-cache on|off]
// --weight-cache off re-converts every bf16 weight copy at each use (as before nn/bf16_weight_cache.h); --mode
// cache-ab alternates LoRA steps with the cache on and off (two models) and prints their ratio.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "random_batch.h"
#include "models/peft_adapter.h"
#include "models/registry.h"
#include "nn/bf16_weight_cache.h"
#include "nn/freeze.h"
#include "ops/precision.h"
#include "train/adamw.h"

using namespace accent;

namespace {

struct Runner {
  std::string mode;
  std::unique_ptr<SequenceClassifier> model;
  std::unique_ptr<AdamW> opt;
  Rng dropout_rng{5};
  std::vector<double> times;
  int64_t conversions = 0;  // bf16 weight copies made during the timed steps (nn/bf16_weight_cache.h)
  bool weight_cache = true;

  void step(const Batch& batch, bool timed) {
    Bf16WeightCache::set_enabled(weight_cache);
    const int64_t c0 = Bf16WeightCache::total_conversions();
    const auto t0 = std::chrono::steady_clock::now();
    model->forward_backward(batch, dropout_rng);
    opt->step(1e-4);
    opt->zero_grad();
    if (!timed) return;
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    conversions += Bf16WeightCache::total_conversions() - c0;
  }
  double median() const {
    std::vector<double> t = times;
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  }
  double min() const { return *std::min_element(times.begin(), times.end()); }
  void report() const {
    int64_t state_bytes = 0, trainable = 0;
    for (const auto& [name, t] : opt->state_tensors()) state_bytes += static_cast<int64_t>(t.nbytes());
    const ParameterList params = model->parameters();
    for (const Parameter* p : params) trainable += p->trainable ? p->value.numel() : 0;
    std::printf("RESULT %s step_seconds_median %.4f (min %.4f, %zu steps)\n", mode.c_str(), median(), min(), times.size());
    std::printf("RESULT %s trainable_params %lld\n", mode.c_str(), static_cast<long long>(trainable));
    std::printf("RESULT %s optimizer_state_bytes %lld\n", mode.c_str(), static_cast<long long>(state_bytes));
    std::printf("RESULT %s gradient_bytes %lld\n", mode.c_str(), static_cast<long long>(gradient_bytes(params)));
    std::printf("RESULT %s bf16_weight_conversions_per_step %.1f\n", mode.c_str(),
                static_cast<double>(conversions) / static_cast<double>(times.size()));
  }
};

}  // namespace

int main(int argc, char** argv) {
  int64_t B = 16, T = 128, steps = 3, threads = 2, layers = -1, r = 8;
  std::string mode = "lora", targets, precision_arg = "fp32", family = "bert";
  bool weight_cache = true;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string k = argv[i], v = argv[i + 1];
    if (k == "--mode") mode = v;
    else if (k == "--family") family = v;
    else if (k == "--batch") B = std::stoll(v);
    else if (k == "--seq") T = std::stoll(v);
    else if (k == "--steps") steps = std::stoll(v);
    else if (k == "--threads") threads = std::stoll(v);
    else if (k == "--layers") layers = std::stoll(v);
    else if (k == "--r") r = std::stoll(v);
    else if (k == "--targets") targets = v;
    else if (k == "--precision") precision_arg = v;
    else if (k == "--weight-cache") weight_cache = v != "off";
    else {
      std::fprintf(stderr, "unknown option %s\n", k.c_str());
      return 2;
    }
  }
  if (family != "bert" && family != "qwen2") {
    std::fprintf(stderr, "--family bert|qwen2\n");
    return 2;
  }
  if (layers < 0) layers = family == "qwen2" ? 24 : 12;
  if (targets.empty()) targets = family == "qwen2" ? "q_proj,v_proj" : "query,value";
  omp_set_num_threads(static_cast<int>(threads));
  const Precision precision = resolve_precision(precision_arg);
  auto make_runner = [&](const std::string& m) {
    auto run = std::make_unique<Runner>();
    ModelConfig config;  // BERT-base defaults
    config.model_type = "bert";
    if (family == "qwen2") {  // Qwen/Qwen2.5-0.5B's config.json
      config.model_type = "qwen2";
      config.vocab_size = 151936, config.hidden_size = 896, config.num_attention_heads = 14;
      config.intermediate_size = 4864, config.max_position_embeddings = 32768, config.type_vocab_size = 0;
      config.hidden_act = "silu", config.layer_norm_eps = 1e-6;
      config.hidden_dropout_prob = config.attention_probs_dropout_prob = 0.0;
      config.extra = {{"num_key_value_heads", 2}, {"rope_theta", 1000000.0}, {"tie_word_embeddings", true},
                      {"bos_token_id", 151643}, {"eos_token_id", 151643}};
    }
    config.num_hidden_layers = layers;
    config.set_num_labels(2);
    run->model = create_sequence_classifier(config, 0);
    run->model->set_op_context(OpContext{Backend::Cpu, precision});
    if (m == "lora" || m == "lora-nocache") {
      LoraConfig lc;
      lc.hyper.r = r;
      lc.hyper.alpha = static_cast<double>(r);
      for (size_t s = 0; s <= targets.size();) {
        const size_t c = std::min(targets.find(',', s), targets.size());
        if (c > s) lc.target_modules.push_back(targets.substr(s, c - s));
        s = c + 1;
      }
      run->model = std::make_unique<LoraModel>(std::move(run->model), lc, 0);
      // As the trainer does once the model is complete: under bf16 the frozen base is then held in bf16 only.
      run->model->set_op_context(OpContext{Backend::Cpu, precision});
    }
    run->mode = m;
    run->weight_cache = weight_cache && m != "lora-nocache";
    AdamWOptions ao;
    ao.weight_decay = 0.01;
    run->opt = std::make_unique<AdamW>(run->model->parameters(), ao);
    return run;
  };
  if (mode != "full" && mode != "lora" && mode != "interleaved" && mode != "cache-ab") {
    std::fprintf(stderr, "--mode full|lora|interleaved|cache-ab\n");
    return 2;
  }
  std::vector<std::unique_ptr<Runner>> runners;
  if (mode == "interleaved") {
    runners.push_back(make_runner("full"));
    runners.push_back(make_runner("lora"));
  } else if (mode == "cache-ab") {
    runners.push_back(make_runner("lora-nocache"));
    runners.push_back(make_runner("lora"));
  } else {
    runners.push_back(make_runner(mode));
  }
  const Batch batch = bench::random_batch(B, T, 1, 1);
  for (int64_t s = 0; s <= steps; ++s)  // step 0 warms up (scratch buffers, oneDNN primitives)
    for (auto& run : runners) run->step(batch, s > 0);  // interleaved: the machine's load hits both alike
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("RESULT family %s mode %s precision %s B %lld T %lld layers %lld threads %lld\n", family.c_str(), mode.c_str(),
              precision == Precision::BF16 ? "bf16" : "fp32", static_cast<long long>(B), static_cast<long long>(T),
              static_cast<long long>(layers), static_cast<long long>(threads));
  for (auto& run : runners) run->report();
  if (runners.size() == 2)
    std::printf("RESULT ratio %s/%s step time: median %.3f, min %.3f\n", runners[1]->mode.c_str(),
                runners[0]->mode.c_str(), runners[1]->median() / runners[0]->median(),
                runners[1]->min() / runners[0]->min());
  else
    std::printf("RESULT peak_rss_mib %.0f\n", usage.ru_maxrss / 1024.0);
  return 0;
}
