// bench/epoch_bench.cpp — issue 4 target 2: training throughput on a real epoch of SST-2 (the first 8,000 rows
// of train.tsv, tokenized by the real bert-base-uncased tokenizer), bert-base shape with random weights, B=16,
// with the Trainer's step (forward + backward with dropout, global-norm clipping at 1.0, AdamW), in one of two
// recipes:
//   pad128   run_glue's classic pad_to_max_length: every batch padded to max_length 128, shuffled order;
//   dynamic  dynamic padding (the longest row of the batch) rounded up to --multiple (default 8), with
//            group_by_length (transformers' LengthGroupedSampler: megabatches of 50·B shuffled rows sorted by
//            length, longest batch first).
//
// Why a multiple of 8 (--multiple): T is a GEMM dimension only in attention (QKᵀ: N = T; P·V: K = T), where the
// bf16 dot-product instructions (vdpbf16ps; AMX tiles likewise) consume K in pairs, so an even T has no K tail, and
// T % 8 = 0 keeps each bf16 row of P 16-byte aligned; it also caps the distinct shapes of an epoch at 16 (T ≤ 128),
// so oneDNN creates few primitives. The projections and the FFN (≈98% of the FLOPs at SST-2's lengths) have
// M = B·T = 16·T rows, a multiple of 16 for ANY T: they do not need it. 16 would fill whole AVX-512 fp32 vectors in
// softmax rows, but costs far more padding on short sentences. Over this epoch the padded length per example is
// 13.83 tokens without a multiple, 17.15 with 8, 21.79 with 16 (real 13.25): 8 costs 24% more tokens than none,
// so whether it pays is an empirical question for a quiet machine (--multiple 1 vs 8).
//
// What is measured and what is extrapolated. The whole epoch's batch order (seed 42, epoch 0, as the Trainer
// draws it) is built and every batch is collated, so the epoch's padded length is exact. Only K of its batches
// are trained (a bert-base step takes seconds): pad128 runs the epoch's first K batches (every batch there is
// 16×128, so any K represent it); dynamic runs K batches drawn at random (seeded) from the epoch, kept in epoch
// order, so their lengths represent the epoch rather than the longest-first head of the grouped order. One
// extra warm-up step (the longest sampled batch: scratch buffers grow once, oneDNN primitives get created) is
// not timed. Measured: examples/s over the K timed steps. Extrapolated: the epoch's time = (timed forward +
// backward seconds per padded token) × (the epoch's padded tokens) + (timed clip + AdamW + zero_grad seconds per
// step, which do not depend on T) × (the epoch's steps); a FLOP-weighted variant (attention's T² term included)
// and the plain mean step × the epoch's steps (unbiased for dynamic's uniform sample, noisier for small K) are
// printed next to it as checks.
//
// --write-batches FILE writes the warm-up and the K batches in run order ("b0" = warm-up, then "b1".."bK"; see
// bench_common.h) plus `epoch_shapes` (I64, (num_batches, 2): B, T of every epoch batch) and `num_warmup`, which
// bench/torch_epoch.py trains on with the PyTorch twin, so both sides see the same tensors.
//
// --device cuda trains on the GPU (Backend::Cuda; each step ends with the GPU finished, so its wall time is the
// step's). A GPU step takes milliseconds: --steps 100000 runs the whole epoch, nothing extrapolated; the PyTorch
// side on the GPU is bench/torch_gpu_bench.py --epoch-batches FILE (the real HF model, bf16 autocast).
//
//   build-*/epoch_bench [--recipe pad128|dynamic] [--steps 8] [--warmup 1] [--precision auto|bf16|fp32]
//                       [--threads 2] [--layers 12] [--batch 16] [--rows 8000] [--max-length 128] [--multiple 8]
//                       [--seed 42] [--data DIR] [--write-batches FILE] [--device cpu|cuda]
#include <omp.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "bench_common.h"
#include "core/rng.h"
#include "data/batcher.h"
#include "data/dataset.h"
#include "io/safetensors.h"
#include "models/registry.h"
#include "ops/cuda/device.h"
#include "ops/precision.h"
#include "text/tokenizer.h"
#include "train/adamw.h"
#include "train/finetune.h"
#include "train/grad_clip.h"

using namespace accent;
using bench::seconds_since;

namespace {

struct Args {
  std::string recipe = "dynamic", precision = "auto", data, write_batches, device = "cpu";
  int64_t steps = 8, warmup = 1, threads = 2, layers = 12, batch = 16, rows = 8000, max_length = 128, multiple = 8;
  uint64_t seed = 42;
};

Args parse_args(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string s = argv[i];
    const bool has_value = i + 1 < argc;
    auto num = [&] { return std::atoll(argv[++i]); };
    if (s == "--recipe" && has_value) a.recipe = argv[++i];
    else if (s == "--precision" && has_value) a.precision = argv[++i];
    else if (s == "--data" && has_value) a.data = argv[++i];
    else if (s == "--device" && has_value) a.device = argv[++i];
    else if (s == "--write-batches" && has_value) a.write_batches = argv[++i];
    else if (s == "--steps" && has_value) a.steps = num();
    else if (s == "--warmup" && has_value) a.warmup = num();
    else if (s == "--threads" && has_value) a.threads = num();
    else if (s == "--layers" && has_value) a.layers = num();
    else if (s == "--batch" && has_value) a.batch = num();
    else if (s == "--rows" && has_value) a.rows = num();
    else if (s == "--max-length" && has_value) a.max_length = num();
    else if (s == "--multiple" && has_value) a.multiple = num();
    else if (s == "--seed" && has_value) a.seed = static_cast<uint64_t>(num());
    else {
      std::fprintf(stderr,
                   "usage: %s [--recipe pad128|dynamic] [--steps K] [--warmup N] [--precision auto|bf16|fp32] "
                   "[--threads N] [--layers L] [--batch B] [--rows N] [--max-length T] [--multiple M] [--seed S] "
                   "[--data DIR] [--write-batches FILE] [--device cpu|cuda]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (a.recipe != "pad128" && a.recipe != "dynamic") {
    std::fprintf(stderr, "--recipe must be pad128 or dynamic, not %s\n", a.recipe.c_str());
    std::exit(2);
  }
  return a;
}

// K distinct indices of [0, n) drawn without replacement (partial Fisher–Yates), returned sorted.
std::vector<int64_t> sample_sorted(int64_t n, int64_t k, Rng rng) {
  std::vector<int64_t> all(static_cast<size_t>(n));
  std::iota(all.begin(), all.end(), int64_t{0});
  k = std::min(k, n);
  for (int64_t i = 0; i < k; ++i) std::swap(all[i], all[i + static_cast<int64_t>(rng.below(n - i))]);
  std::vector<int64_t> out(all.begin(), all.begin() + k);
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse_args(argc, argv);
  omp_set_num_threads(static_cast<int>(a.threads));
  const Precision precision = resolve_precision(a.precision);
  const std::string prec = precision == Precision::BF16 ? "bf16" : "fp32";
  const std::string data_files = bench::data_dir(a.data);
  const Backend backend = resolve_device(a.device);
  const OpContext ctx{backend, precision};
  const std::string key = "epoch." + a.recipe + ".accent." + prec + (backend == Backend::Cuda ? ".cuda" : "");

  // ---- data: the first `rows` rows of SST-2 train, tokenized as `accent train` does (truncation to 128) ----
  Tokenizer tokenizer = Tokenizer::from_pretrained(data_files + "/vocab/bert-base-uncased");
  ReadOptions read;
  read.text_column = "sentence";
  read.label_column = "label";
  Dataset data = read_dataset(data_files + "/sentiment/sst2/train.tsv", read);
  if (static_cast<int64_t>(data.rows.size()) > a.rows) data.rows.resize(static_cast<size_t>(a.rows));
  const LabelSetup labels = setup_labels(data, std::nullopt);
  const auto t_tok = std::chrono::steady_clock::now();
  const EncodedDataset enc = encode_dataset(tokenizer, data, labels, a.max_length);
  const double tok_sec = seconds_since(t_tok);
  const auto N = static_cast<int64_t>(enc.examples.size());
  std::printf("data: %lld SST-2 train rows tokenized in %.3f s (%lld threads, %.0f rows/s), %lld truncated to %lld\n",
              static_cast<long long>(N), tok_sec, static_cast<long long>(a.threads), static_cast<double>(N) / tok_sec,
              static_cast<long long>(enc.truncated), static_cast<long long>(a.max_length));

  // ---- the epoch's batches (Trainer order of epoch 0) ----
  BatcherOptions bo;
  bo.batch_size = a.batch;
  bo.pad_id = tokenizer.pad_token_id().value_or(0);
  bo.seed = a.seed;
  if (a.recipe == "pad128") {
    bo.pad_to_length = a.max_length;
  } else {
    bo.group_by_length = true;
    bo.pad_to_multiple_of = a.multiple;
  }
  const Batcher batcher(enc.examples, bo);
  const auto epoch = batcher.train_batches(0);
  const auto num_batches = static_cast<int64_t>(epoch.size());
  std::vector<int64_t> epoch_T(epoch.size());
  double epoch_padded_tokens = 0, epoch_real_tokens = 0, epoch_flops = 0;
  for (size_t k = 0; k < epoch.size(); ++k) {
    const Batch b = batcher.collate(epoch[k]);  // exactly what the Trainer feeds the model
    epoch_T[k] = b.T;
    epoch_padded_tokens += static_cast<double>(b.B * b.T);
    epoch_real_tokens += std::accumulate(b.attention_mask.begin(), b.attention_mask.end(), 0.0);
    epoch_flops += 3.0 * bench::forward_matmul_flops(b.B, b.T, a.layers);
  }
  const double mean_padded = epoch_padded_tokens / static_cast<double>(N);
  const double mean_real = epoch_real_tokens / static_cast<double>(N);
  std::printf("epoch (%s): %lld batches of %lld; padded length per example %.2f (real tokens %.2f, padding %.1f%%); "
              "T from %lld to %lld\n",
              a.recipe.c_str(), static_cast<long long>(num_batches), static_cast<long long>(a.batch), mean_padded,
              mean_real, 100.0 * (1.0 - epoch_real_tokens / epoch_padded_tokens),
              static_cast<long long>(*std::min_element(epoch_T.begin(), epoch_T.end())),
              static_cast<long long>(*std::max_element(epoch_T.begin(), epoch_T.end())));
  bench::metric("epoch." + a.recipe + ".batches", static_cast<double>(num_batches));
  bench::metric("epoch." + a.recipe + ".examples", static_cast<double>(N));
  bench::metric("epoch." + a.recipe + ".mean_padded_length", mean_padded);
  bench::metric("epoch." + a.recipe + ".mean_real_length", mean_real);
  bench::metric("accent.tokenize_train_rows_per_s", static_cast<double>(N) / tok_sec);

  // ---- which batches run: warm-up (untimed) + K timed ----
  std::vector<int64_t> timed;
  if (a.recipe == "pad128") {
    for (int64_t k = 0; k < std::min(a.steps, num_batches); ++k) timed.push_back(k);
  } else {
    timed = sample_sorted(num_batches, a.steps, Rng(a.seed).fork(0xba7c4));
  }
  int64_t longest = timed.empty() ? 0 : timed[0];
  for (int64_t k : timed)
    if (epoch_T[k] > epoch_T[longest]) longest = k;
  std::vector<int64_t> run_order(static_cast<size_t>(timed.empty() ? 0 : a.warmup), longest);
  run_order.insert(run_order.end(), timed.begin(), timed.end());
  std::string picked;
  for (int64_t k : timed) picked += " " + std::to_string(k) + "(T=" + std::to_string(epoch_T[k]) + ")";
  std::printf("timed batches (%s):%s; warm-up %lld step(s) on batch %lld\n",
              a.recipe == "pad128" ? "the epoch's first K" : "K drawn at random from the epoch, seeded", picked.c_str(),
              static_cast<long long>(run_order.size() - timed.size()), static_cast<long long>(longest));

  if (!a.write_batches.empty()) {
    std::map<std::string, Tensor> out;
    for (size_t i = 0; i < run_order.size(); ++i)
      bench::add_batch_tensors(out, "b" + std::to_string(i), batcher.collate(epoch[run_order[i]]));
    Tensor shapes(DType::I64, {num_batches, 2});
    for (int64_t k = 0; k < num_batches; ++k) {
      shapes.data_as<int64_t>()[2 * k] = static_cast<int64_t>(epoch[k].size());
      shapes.data_as<int64_t>()[2 * k + 1] = epoch_T[k];
    }
    out.emplace("epoch_shapes", std::move(shapes));
    Tensor warm(DType::I64, {1});
    warm.data_as<int64_t>()[0] = static_cast<int64_t>(run_order.size() - timed.size());
    out.emplace("num_warmup", std::move(warm));
    save_safetensors(a.write_batches, out);
    std::printf("wrote %zu batches to %s\n", run_order.size(), a.write_batches.c_str());
  }

  // ---- model and the Trainer's step ----
  auto model = create_sequence_classifier(bench::bert_base_config(a.layers), 0);
  model->set_op_context(ctx);
  AdamW optimizer(model->parameters(), AdamWOptions{}, ctx);  // HF defaults: betas (0.9, 0.999), eps 1e-8, no decay
  const ParameterList params = model->parameters();
  Rng dropout_rng(a.seed);
  std::printf("accent %s on %s: bert-base shape (%lld layers), B=%lld, %lld threads, AdamW + clip 1.0\n",
              prec.c_str(), backend_name(backend), static_cast<long long>(a.layers), static_cast<long long>(a.batch),
              static_cast<long long>(a.threads));
  double timed_sec = 0, timed_optimizer_sec = 0, timed_tokens = 0, timed_flops = 0, timed_examples = 0;
  for (size_t i = 0; i < run_order.size(); ++i) {
    const bool warm = i + timed.size() < run_order.size();
    const auto t0 = std::chrono::steady_clock::now();
    const Batch b = batcher.collate(epoch[run_order[i]]);
    const ForwardResult r = model->forward_backward(b, dropout_rng);
    const auto t1 = std::chrono::steady_clock::now();
    // The trainer's step (train/trainer.cpp): the norm, then clip + AdamW + zero_grad in one pass.
    optimizer.step_and_zero_grad(2e-5, clip_coefficient(grad_global_norm(params, ctx), 1.0));
    if (backend == Backend::Cuda) cuda::synchronize();  // the step is over when the GPU is
    const double sec = seconds_since(t0), optimizer_sec = seconds_since(t1);
    if (backend != Backend::Cuda || i < 3 || i + 3 > run_order.size())  // a GPU epoch has ~500 steps
      std::printf("  step %zu%s batch %lld T=%lld: %.3f s, of which clip + AdamW + zero_grad %.3f s (loss %.4f)\n", i,
                warm ? " (warm-up)" : "", static_cast<long long>(run_order[i]), static_cast<long long>(b.T), sec,
                optimizer_sec, r.loss);
    if (warm) continue;
    timed_sec += sec;
    timed_optimizer_sec += optimizer_sec;
    timed_tokens += static_cast<double>(b.B * b.T);
    timed_flops += 3.0 * bench::forward_matmul_flops(b.B, b.T, a.layers);
    timed_examples += static_cast<double>(b.B);
  }
  if (timed_sec > 0) {
    // The optimizer's share (clip + AdamW + zero_grad) does not depend on T: charged per step; forward + backward
    // is charged per padded token (or per matmul FLOP).
    const double optimizer_per_step = timed_optimizer_sec / static_cast<double>(timed.size());
    const double model_sec = timed_sec - timed_optimizer_sec;
    const double fixed = optimizer_per_step * static_cast<double>(num_batches);
    const double est_tokens = fixed + model_sec / timed_tokens * epoch_padded_tokens;
    const double est_flops = fixed + model_sec / timed_flops * epoch_flops;
    // With the K batches a uniform sample of the epoch (dynamic), the mean step × the epoch's steps is unbiased
    // whatever the cost model; it is noisier for small K.
    const double est_mean = timed_sec / static_cast<double>(timed.size()) * static_cast<double>(num_batches);
    std::printf("RESULT accent epoch %s %s: measured %lld steps, %.0f examples in %.3f s = %.2f examples/s; "
                "extrapolated epoch (%lld examples) %.1f s token-weighted (%.1f s FLOP-weighted, %.1f s mean step × %lld steps) "
                "= %.2f examples/s\n",
                a.recipe.c_str(), prec.c_str(), static_cast<long long>(timed.size()), timed_examples, timed_sec,
                timed_examples / timed_sec, static_cast<long long>(N), est_tokens, est_flops, est_mean,
                static_cast<long long>(num_batches), static_cast<double>(N) / est_tokens);
    bench::metric(key + ".examples_per_s", timed_examples / timed_sec);
    bench::metric(key + ".s_per_step", timed_sec / static_cast<double>(timed.size()));
    bench::metric(key + ".optimizer_s_per_step", timed_optimizer_sec / static_cast<double>(timed.size()));
    bench::metric(key + ".epoch_s_token_weighted", est_tokens);
    bench::metric(key + ".epoch_s_flop_weighted", est_flops);
    bench::metric(key + ".epoch_s_mean_step", est_mean);
  }
  std::printf("RESULT accent peak RSS %.0f MiB\n", bench::peak_rss_mib());
  bench::metric(key + ".peak_rss_mib", bench::peak_rss_mib());
  return 0;
}
