// bench/bench_common.h — what the SST-2 benchmarks (epoch_bench, infer_bench) share: the bert-base config with
// random weights, the matmul-FLOP model of one forward, timing helpers, percentiles, the process's peak RSS and
// the batch file the PyTorch side reads (bench/torch_bench_common.py).
//
// Batch file: a safetensors file; batch `<prefix>` is stored as `<prefix>.input_ids`, `<prefix>.token_type_ids`,
// `<prefix>.attention_mask` (I32, (B, T)) and, when the batch has labels, `<prefix>.labels` (I64, (B)).
// Output lines meant for scripts are `METRIC <key> <value>` (bench/speed_table.sh collects them).
#pragma once
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "data/batch.h"
#include "io/config.h"

namespace accent::bench {

inline double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// BERT-base (bert-base-uncased's config.json: V=30522, H=768, 12 heads, I=3072, P=512, 2 token types, pad id 0)
// with `layers` encoder layers and a 2-label single-label head. Dropout 0.1 as in the checkpoint's config.
inline ModelConfig bert_base_config(int64_t layers) {
  ModelConfig c;
  c.model_type = "bert";
  c.pad_token_id = 0;
  c.num_hidden_layers = layers;
  c.set_num_labels(2);
  c.problem_type = "single_label_classification";
  return c;
}

// Matmul FLOPs of one BERT-base forward on a (B, T) batch (the model of train_step_bench.cpp): per token the
// Q, K, V, O projections 4·H² and the FFN 2·H·I multiply-adds, attention QKᵀ and PV 2·T·H; pooler H² per row.
// A training step costs 3× (forward, dX, dW).
inline double forward_matmul_flops(int64_t B, int64_t T, int64_t layers, int64_t H = 768, int64_t I = 3072) {
  const double tokens = static_cast<double>(B * T);
  const double per_layer = 2.0 * tokens * (4.0 * H * H + 2.0 * H * I) + 2.0 * 2.0 * tokens * T * H;
  return per_layer * static_cast<double>(layers) + 2.0 * static_cast<double>(B) * H * H;
}

// q-th percentile (0..100) by linear interpolation between closest ranks (numpy.percentile's default).
inline double percentile(std::vector<double> v, double q) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const double pos = q / 100.0 * static_cast<double>(v.size() - 1);
  const size_t lo = static_cast<size_t>(pos);
  const size_t hi = std::min(lo + 1, v.size() - 1);
  return v[lo] + (v[hi] - v[lo]) * (pos - static_cast<double>(lo));
}

inline double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;  // ru_maxrss is in KiB on Linux
}

inline void metric(const std::string& key, double value) { std::printf("METRIC %s %.6g\n", key.c_str(), value); }

// Adds batch `prefix` to `out` (see the file comment for the names and dtypes).
inline void add_batch_tensors(std::map<std::string, Tensor>& out, const std::string& prefix, const Batch& b) {
  auto ints = [&](const std::vector<int32_t>& v, int32_t fill) {
    Tensor t(DType::I32, {b.B, b.T});
    int32_t* p = t.data_as<int32_t>();
    for (int64_t i = 0; i < b.B * b.T; ++i) p[i] = v.empty() ? fill : v[static_cast<size_t>(i)];
    return t;
  };
  out.emplace(prefix + ".input_ids", ints(b.input_ids, 0));
  out.emplace(prefix + ".token_type_ids", ints(b.token_type_ids, 0));
  out.emplace(prefix + ".attention_mask", ints(b.attention_mask, 1));
  if (!b.class_labels.empty()) {
    Tensor labels(DType::I64, {b.B});
    std::copy(b.class_labels.begin(), b.class_labels.end(), labels.data_as<int64_t>());
    out.emplace(prefix + ".labels", std::move(labels));
  }
}

// The data directory (vocabularies, SST-2): --data DIR, else the repository's tests/data, found from this file's
// path (bench/ sits next to tests/), so a benchmark reads the same files from any working directory.
inline std::string data_dir(const std::string& given) {
  if (!given.empty()) return given;
  return (std::filesystem::path(__FILE__).parent_path().parent_path() / "tests" / "data").string();
}

}  // namespace accent::bench
