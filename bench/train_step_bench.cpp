// bench/train_step_bench.cpp — one training step (forward + backward) of a bert-base-shaped
// BertForSequenceClassification (or, with --family, roberta-base / distilbert-base-uncased / gpt2 /
// electra-base-discriminator / ModernBERT-base / DeBERTa-v3-base shapes of the other families) with random weights, in fp32 or bf16 mixed precision; the achieved matmul
// TFLOP/s next to oneDNN's own matmul rate on 2048×768×3072 measured in the same run; inference throughput at
// batch 32 and single-sentence latency; the process's peak RSS.
//
//   build-*/train_step_bench [--family bert|roberta|distilbert|gpt2|electra|modernbert|deberta-v2] [--batch 16] [--seq 128] [--steps 3]
//                            [--threads 2] [--layers 12 (distilbert 6)]
//                            [--precision auto|bf16|fp32] [--ref] [--infer] [--infer-batch 32] [--no-train]
//                            [--task sequence-classification|token-classification|question-answering]
//                            [--labels 13] [--epoch-sentences N]
// --task picks the head (default: sequence classification, 2 labels, alternating labels, no padding):
//   token-classification   *ForTokenClassification, --labels C (default 13: WNUT-17's tag set), B=16 T=128 unless
//                          --batch / --seq say otherwise; rows "[CLS] sub-tokens [SEP] pad…" (row 0 fills T, the
//                          others 25–100 % of it), labels random in [0, C), -100 on [CLS], [SEP], padding and ~30 %
//                          of the sub-tokens after the first (later word pieces); the projected epoch of
//                          --epoch-sentences sentences (default 3394, WNUT-17 train: ⌈3394/16⌉ = 213 steps).
//   question-answering     *ForQuestionAnswering, B=8 T=384 (run_qa.py's max_seq_length) unless --batch / --seq say
//                          otherwise; rows "[CLS] question [SEP] context [SEP] pad…" (token types 1 on the context;
//                          row 0 fills T, the others 50–100 % of it), the answer start ≤ end inside the context.
// --epoch-sentences N (any task) also prints the projected time of ⌈N/B⌉ steps at the mean step time.
// The PyTorch side of the comparison is bench/torch_step.py (same shapes, same dropout, same --task and batch
// recipe, torch.set_num_threads; --autocast for torch.autocast("cpu", dtype=torch.bfloat16)); bench/task_step.sh
// runs both for one task and prints the ratios. Timing lives here, never in tests.
#include <omp.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "random_batch.h"
#include "models/model_task.h"
#include "models/registry.h"
#include "ops/matmul.h"
#include "ops/precision.h"

using namespace accent;

namespace {

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// Matmul FLOPs of one BERT forward (encoder: Q,K,V,O projections 4·H², FFN 2·H·I per token; attention QKᵀ and
// PV 2·T·H per token; sequence classification: pooler H² per sentence; token classification / QA: the head's H·C
// (C = 2 for QA) per token). A training step does 3× (forward, dX, dW).
// mlp_matrices: 2 for BERT's up and down projections, 3 for a gated MLP (ModernBERT's Wi holds two H×I halves).
double forward_matmul_flops(int64_t B, int64_t T, int64_t layers, ModelTask task = ModelTask::SequenceClassification,
                            int64_t C = 2, int64_t H = 768, int64_t I = 3072, int64_t mlp_matrices = 2) {
  const double tokens = static_cast<double>(B * T);
  const double per_layer = 2.0 * tokens * (4.0 * H * H + static_cast<double>(mlp_matrices) * H * I) +
                           2.0 * 2.0 * tokens * T * H;
  const double head = task == ModelTask::SequenceClassification ? 2.0 * static_cast<double>(B) * H * H
                                                                : 2.0 * tokens * H * static_cast<double>(C);
  return per_layer * static_cast<double>(layers) + head;
}

// Ids of the synthetic rows: bert-base-uncased's [CLS] / [SEP] / [PAD], word pieces in [1000, 30000).
constexpr int32_t kCls = 101, kSep = 102, kPad = 0;

// A token-classification batch (see the header): one sentence per row, padded to T; WNUT-17-like labels.
Batch ner_batch(int64_t B, int64_t T, int64_t C, uint64_t seed) {
  Batch batch;
  batch.B = B, batch.T = T;
  Rng rng(seed);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = b == 0 ? T : std::max<int64_t>(3, T / 4 + static_cast<int64_t>(rng.below(T - T / 4 + 1)));
    for (int64_t t = 0; t < T; ++t) {
      const bool pad = t >= len, special = t == 0 || t == len - 1;
      batch.input_ids.push_back(pad ? kPad : t == 0 ? kCls : t == len - 1 ? kSep
                                                           : static_cast<int32_t>(1000 + rng.below(29000)));
      batch.token_type_ids.push_back(0);
      batch.attention_mask.push_back(pad ? 0 : 1);
      const bool later_piece = !pad && !special && t > 1 && rng.below(10) < 3;
      batch.token_labels.push_back(pad || special || later_piece ? -100 : static_cast<int64_t>(rng.below(C)));
    }
  }
  return batch;
}

// A question-answering batch (see the header): question + context pair per row, the answer inside the context.
Batch qa_batch(int64_t B, int64_t T, uint64_t seed) {
  Batch batch;
  batch.B = B, batch.T = T;
  Rng rng(seed);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = b == 0 ? T : T / 2 + static_cast<int64_t>(rng.below(T - T / 2 + 1));
    const int64_t q = std::min<int64_t>(8 + static_cast<int64_t>(rng.below(17)), std::max<int64_t>(1, (len - 4) / 3));
    const int64_t ctx_begin = q + 2, ctx_last = len - 2;  // [CLS] q… [SEP] ctx_begin … ctx_last [SEP]
    for (int64_t t = 0; t < T; ++t) {
      const bool pad = t >= len;
      batch.input_ids.push_back(pad ? kPad : t == 0 ? kCls : (t == q + 1 || t == len - 1) ? kSep
                                                           : static_cast<int32_t>(1000 + rng.below(29000)));
      batch.token_type_ids.push_back(!pad && t >= ctx_begin ? 1 : 0);
      batch.attention_mask.push_back(pad ? 0 : 1);
    }
    const int64_t start = ctx_begin + static_cast<int64_t>(rng.below(ctx_last - ctx_begin + 1));
    batch.start_positions.push_back(start);
    batch.end_positions.push_back(std::min<int64_t>(ctx_last, start + static_cast<int64_t>(rng.below(8))));
  }
  return batch;
}

// oneDNN's matmul rate on (M, K)·(K, N) in this process: the ceiling accent's matmuls can approach.
double onednn_tflops(bool bf16, int64_t M = 2048, int64_t K = 768, int64_t N = 3072) {
  std::vector<float> a(M * K, 0.5f), b(K * N, 0.25f), c(M * N);
  std::vector<uint16_t> b16(K * N);
  convert_f32_to_bf16(b.data(), b16.data(), K * N);
  const OpContext ctx{Backend::Cpu, bf16 ? Precision::BF16 : Precision::F32};
  GemmShape s;
  s.M = M, s.N = N, s.K = K;
  auto run = [&] {
    if (bf16) gemm_bf16_weights(ctx, s, a.data(), b16.data(), nullptr, c.data(), false);
    else gemm(ctx, s, a.data(), b.data(), nullptr, c.data(), false);
  };
  run();
  double best = 1e30;
  for (int i = 0; i < 5; ++i) {
    const auto t0 = std::chrono::steady_clock::now();
    run();
    best = std::min(best, seconds_since(t0));
  }
  return 2.0 * M * N * K / best / 1e12;
}

// The hub base checkpoint's config of each family (shapes, activations, eps, pad ids).
ModelConfig family_config(const std::string& family) {
  ModelConfig c;  // BERT-base defaults: V=30522, H=768, 12 layers, 12 heads, I=3072, P=512
  c.model_type = family;
  c.pad_token_id = 0;
  if (family == "roberta") {
    c.vocab_size = 50265, c.max_position_embeddings = 514, c.type_vocab_size = 1, c.pad_token_id = 1;
    c.layer_norm_eps = 1e-5;
  } else if (family == "distilbert") {
    c.num_hidden_layers = 6, c.type_vocab_size = 0, c.classifier_dropout = 0.2;
  } else if (family == "gpt2") {
    c.vocab_size = 50257, c.max_position_embeddings = 1024, c.type_vocab_size = 0, c.hidden_act = "gelu_new";
    c.layer_norm_eps = 1e-5, c.pad_token_id = 50256;
  } else if (family == "electra") {
    c.embedding_size = 768;  // electra-base-discriminator
  } else if (family == "modernbert") {  // answerdotai/ModernBERT-base (bench/torch_family_step.py holds the same)
    c.vocab_size = 50368, c.intermediate_size = 1152, c.num_hidden_layers = 22, c.max_position_embeddings = 8192;
    c.type_vocab_size = 0, c.hidden_act = "gelu", c.layer_norm_eps = 1e-5, c.pad_token_id = 50283;
    c.hidden_dropout_prob = c.attention_probs_dropout_prob = 0.0, c.classifier_dropout = 0.0;
    c.extra = {{"global_attn_every_n_layers", 3}, {"local_attention", 128}, {"global_rope_theta", 160000.0},
               {"local_rope_theta", 10000.0}, {"classifier_pooling", "mean"}, {"classifier_activation", "gelu"},
               {"norm_bias", false}, {"bos_token_id", 50281}, {"eos_token_id", 50282}};
  } else if (family == "deberta-v2") {  // microsoft/deberta-v3-base (bench/torch_family_step.py holds the same)
    c.vocab_size = 128100, c.type_vocab_size = 0, c.layer_norm_eps = 1e-7, c.pad_token_id = 0;
    c.extra = {{"relative_attention", true}, {"position_biased_input", false}, {"share_att_key", true},
               {"norm_rel_ebd", "layer_norm"}, {"pos_att_type", {"p2c", "c2p"}}, {"position_buckets", 256},
               {"max_relative_positions", -1}, {"pooler_hidden_size", 768}, {"pooler_hidden_act", "gelu"},
               {"pooler_dropout", 0}};
  } else if (family != "bert") {
    std::fprintf(stderr, "unknown --family %s\n", family.c_str());
    std::exit(2);
  }
  return c;
}

}  // namespace

int main(int argc, char** argv) {
  int64_t B = -1, T = -1, steps = 3, threads = 2, layers = -1, infer_batch = 32, labels = 13, epoch_sentences = -1;
  bool use_ref = false, infer = false, train = true;
  std::string precision_arg = "auto", family = "bert";
  ModelTask task = ModelTask::SequenceClassification;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoll(argv[++i]) : 0; };
    if (a == "--batch") B = next();
    else if (a == "--seq") T = next();
    else if (a == "--steps") steps = next();
    else if (a == "--threads") threads = next();
    else if (a == "--layers") layers = next();
    else if (a == "--infer-batch") infer_batch = next();
    else if (a == "--precision" && i + 1 < argc) precision_arg = argv[++i];
    else if (a == "--family" && i + 1 < argc) family = argv[++i];
    else if (a == "--task" && i + 1 < argc) {
      try {
        task = task_from_name(argv[++i]);
      } catch (const std::exception& e) {
        std::fprintf(stderr, "--task: %s\n", e.what());
        return 2;
      }
    } else if (a == "--labels") labels = next();
    else if (a == "--epoch-sentences") epoch_sentences = next();
    else if (a == "--bf16") precision_arg = "bf16";
    else if (a == "--ref") use_ref = true;
    else if (a == "--infer") infer = true;
    else if (a == "--no-train") train = false;
    else {
      std::fprintf(stderr,
                   "usage: %s [--family bert|roberta|distilbert|gpt2|electra|modernbert|deberta-v2] [--batch B] [--seq T] [--steps N] [--threads N] [--layers L] [--precision auto|bf16|fp32]"
                   " [--ref] [--infer] [--infer-batch B] [--no-train]"
                   " [--task sequence-classification|token-classification|question-answering] [--labels C]"
                   " [--epoch-sentences N]\n",
                   argv[0]);
      return 2;
    }
  }
  const bool qa = task == ModelTask::QuestionAnswering, ner = task == ModelTask::TokenClassification;
  if (B < 0) B = qa ? 8 : 16;
  if (T < 0) T = qa ? 384 : 128;
  if (epoch_sentences < 0) epoch_sentences = ner ? 3394 : 0;
  const int64_t num_labels = ner ? labels : 2;
  if (B <= 0 || (qa && T < 8) || T < 3 || num_labels < 1) {
    std::fprintf(stderr, "need --batch > 0, --seq >= 3 (question answering: >= 8), --labels >= 1\n");
    return 2;
  }
  omp_set_num_threads(static_cast<int>(threads));
  const Precision precision = resolve_precision(precision_arg);
  const bool bf16 = precision == Precision::BF16;

  ModelConfig config = family_config(family);
  if (layers < 0) layers = config.num_hidden_layers;
  config.num_hidden_layers = layers;
  config.set_num_labels(num_labels);
  if (task == ModelTask::SequenceClassification) config.problem_type = "single_label_classification";
  auto model = create_sequence_classifier(config, 0, task);
  model->set_op_context(OpContext{use_ref ? Backend::Ref : Backend::Cpu, precision});

  std::printf("cpu: amx_bf16=%d avx512_bf16=%d; precision %s, %lld threads, backend %s\n", cpu_has_amx_bf16(),
              cpu_has_avx512_bf16(), precision_name(precision), static_cast<long long>(threads),
              use_ref ? "ref" : "cpu");
  const double ceiling_bf16 = onednn_tflops(true), ceiling_f32 = onednn_tflops(false);
  std::printf("RESULT onednn matmul 2048x768x3072: bf16 %.3f TFLOP/s, fp32 %.3f TFLOP/s\n", ceiling_bf16,
              ceiling_f32);

  if (train) {
    const Batch batch = ner ? ner_batch(B, T, num_labels, 1) : qa ? qa_batch(B, T, 1) : bench::random_batch(B, T, 1, 3);
    Rng dropout_rng(2);
    std::printf("accent train step: %s-base shape (%lld layers), *%s (%lld labels), B=%lld T=%lld, %s\n",
                family.c_str(), static_cast<long long>(layers), task_class_suffix(model->task()),
                static_cast<long long>(num_labels), static_cast<long long>(B), static_cast<long long>(T),
                precision_name(precision));
    double total = 0.0, best = 1e30;
    std::vector<double> timed;
    for (int64_t s = 0; s <= steps; ++s) {  // step 0 = warm-up (buffers, oneDNN primitives)
      for (Parameter* p : model->parameters()) p->grad.zero();
      const auto t0 = std::chrono::steady_clock::now();
      const ForwardResult r = model->forward_backward(batch, dropout_rng);
      const double sec = seconds_since(t0);
      std::printf("  step %lld%s: %.3f s  (loss %.5f)\n", static_cast<long long>(s), s == 0 ? " (warm-up)" : "",
                  sec, r.loss);
      if (s > 0) total += sec, best = sec < best ? sec : best, timed.push_back(sec);
    }
    const double flops = 3.0 * forward_matmul_flops(B, T, layers, task, num_labels, config.hidden_size,
                                                    config.intermediate_size, family == "modernbert" ? 3 : 2);
    std::printf("RESULT accent train %s %s: mean %.3f s/step, best %.3f s/step, %.3f TFLOP/s (matmul FLOPs %.1f G), "
                "%.0f%% of oneDNN %s matmul\n",
                family.c_str(), precision_name(precision), steps > 0 ? total / static_cast<double>(steps) : 0.0, best,
                flops / best / 1e12, flops / 1e9, 100.0 * flops / best / 1e12 / (bf16 ? ceiling_bf16 : ceiling_f32),
                precision_name(precision));
    if (!timed.empty()) {  // bench/compare_family_step.sh reads this line
      std::sort(timed.begin(), timed.end());
      std::printf("RESULT accent %s %s: step_seconds_median %.4f (min %.4f, %zu steps)\n", family.c_str(),
                  precision_name(precision), timed[timed.size() / 2], timed.front(), timed.size());
    }
    if (epoch_sentences > 0 && steps > 0) {
      const int64_t epoch_steps = (epoch_sentences + B - 1) / B;
      const double mean = total / static_cast<double>(steps);
      std::printf("RESULT accent epoch %s %s: %lld sentences = %lld steps of B=%lld, projected %.1f s (%.2f min) at "
                  "%.3f s/step\n",
                  task_name(task), precision_name(precision), static_cast<long long>(epoch_sentences),
                  static_cast<long long>(epoch_steps), static_cast<long long>(B), mean * epoch_steps,
                  mean * epoch_steps / 60.0, mean);
    }
  }
  if (infer) {
    const Batch big = bench::random_batch(infer_batch, T, 3, 3), one = bench::random_batch(1, T, 4, 3);
    model->forward(big);  // warm-up
    double best = 1e30;
    for (int i = 0; i < 2; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      model->forward(big);
      best = std::min(best, seconds_since(t0));
    }
    model->forward(one);
    double best1 = 1e30;
    for (int i = 0; i < 5; ++i) {
      const auto t0 = std::chrono::steady_clock::now();
      model->forward(one);
      best1 = std::min(best1, seconds_since(t0));
    }
    std::printf("RESULT accent infer %s: batch %lld T=%lld: %.1f sentences/s; single sentence T=%lld: %.1f ms\n",
                precision_name(precision), static_cast<long long>(infer_batch), static_cast<long long>(T),
                static_cast<double>(infer_batch) / best, static_cast<long long>(T), best1 * 1e3);
  }
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  std::printf("RESULT accent peak RSS %.0f MiB\n", usage.ru_maxrss / 1024.0);
  return 0;
}
