// Helpers for the models tests: run the PyTorch twin (tests/reference/bert_twin.py) into a temp dir, read its
// inputs into a Batch, compare tensors.
#pragma once
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "core/rng.h"
#include "core/tensor.h"
#include "data/batch.h"
#include "io/config.h"
#include "io/safetensors.h"

namespace accent::testing {

// A fresh directory under the system temp dir, removed when the object dies.
class TempDir {
 public:
  explicit TempDir(const std::string& tag) {
    path_ = std::filesystem::temp_directory_path() / ("accent_" + tag + "_" + std::to_string(::getpid()));
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string str() const { return path_.string(); }
  std::string operator/(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// Runs `bert_twin.py gen` (Debian /usr/bin/python3 with torch); fails the test when it does not succeed.
inline void run_twin(const std::string& out, const std::string& preset, const std::string& problem,
                     const std::string& act = "gelu", int seed = 0) {
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/bert_twin.py gen --out " +
                          out + " --preset " + preset + " --problem " + problem + " --act " + act +
                          " --seed " + std::to_string(seed);
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

// Runs `lora_twin.py gen --out OUT ARGS` (the PEFT-math twin); fails the test when it does not succeed.
inline void run_lora_twin(const std::string& out, const std::string& args) {
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/lora_twin.py gen --out " +
                          out + " " + args;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

inline std::vector<int32_t> as_int32(const Tensor& t) {
  const Tensor i = t.to(DType::I64);
  const int64_t* p = i.data_as<int64_t>();
  return std::vector<int32_t>(p, p + i.numel());
}

// The twin's inputs.safetensors as a Batch (labels as the problem type needs them).
inline Batch read_twin_batch(const std::string& path) {
  auto f = SafetensorsFile::open(path);
  Batch batch;
  const Tensor ids = f->load("input_ids", DType::I64);
  batch.B = ids.dim(0);
  batch.T = ids.dim(1);
  batch.input_ids = as_int32(ids);
  batch.token_type_ids = as_int32(f->load("token_type_ids", DType::I64));
  batch.attention_mask = as_int32(f->load("attention_mask", DType::I64));
  auto int64s = [&](const char* name) {
    const Tensor l = f->load(name, DType::I64);
    return std::vector<int64_t>(l.data_as<int64_t>(), l.data_as<int64_t>() + l.numel());
  };
  if (f->contains("token_labels")) batch.token_labels = int64s("token_labels");  // task_twin.py token classification
  if (f->contains("start_positions")) {                                          // task_twin.py question answering
    batch.start_positions = int64s("start_positions");
    batch.end_positions = int64s("end_positions");
  }
  if (!f->contains("labels")) return batch;
  const SafetensorsEntry& labels = f->entry("labels");
  if (labels.dtype == DType::I64) {
    const Tensor l = f->load("labels", DType::I64);
    batch.class_labels.assign(l.data_as<int64_t>(), l.data_as<int64_t>() + l.numel());
  } else {
    const Tensor l = f->load("labels", DType::F32);
    batch.float_labels.assign(l.f32(), l.f32() + l.numel());
  }
  return batch;
}

// max|a − b| / max(max|b|, floor) over n values.
inline double relative_diff(const float* a, const float* b, int64_t n, double floor = 1e-30) {
  double diff = 0.0, scale = floor;
  for (int64_t i = 0; i < n; ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - b[i]));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / scale;
}
inline double relative_diff(const Tensor& a, const Tensor& b, double floor = 1e-30) {
  return relative_diff(a.f32(), b.f32(), b.numel(), floor);
}

// A gtest parameter name for a model family: "xlm-roberta" → "xlm_roberta".
inline std::string family_param_name(const ::testing::TestParamInfo<std::string>& info) {
  std::string name = info.param;
  std::replace(name.begin(), name.end(), '-', '_');
  return name;
}

inline double max_abs_diff(const Tensor& a, const Tensor& b) {
  double diff = 0.0;
  for (int64_t i = 0; i < b.numel(); ++i) diff = std::max(diff, std::fabs(static_cast<double>(a.f32()[i]) - b.f32()[i]));
  return diff;
}

inline double max_abs(const Tensor& a) {
  double m = 0.0;
  for (int64_t i = 0; i < a.numel(); ++i) m = std::max(m, std::fabs(static_cast<double>(a.f32()[i])));
  return m;
}

// A small BERT-shaped config of `family` (vocab 120, hidden 64, 2 layers, 4 heads, 3 labels) for tests that
// build a model from scratch.
inline ModelConfig small_model_config(const std::string& family = "bert") {
  ModelConfig c;
  c.model_type = family;
  c.vocab_size = 120, c.hidden_size = 64, c.num_hidden_layers = 2, c.num_attention_heads = 4;
  c.intermediate_size = 128, c.max_position_embeddings = 64;
  c.pad_token_id = 0;
  c.set_num_labels(3);
  c.problem_type = "single_label_classification";
  if (family == "qwen2" || family == "llama") {  // grouped K/V heads, SiLU, RMSNorm
    c.hidden_act = "silu", c.layer_norm_eps = 1e-6;
    c.extra["num_key_value_heads"] = 2;
  }
  if (family == "deberta-v2")  // DeBERTa-v3's layout; 8 buckets so that short rows reach the log buckets
    c.extra = {{"relative_attention", true}, {"position_biased_input", false}, {"share_att_key", true},
               {"norm_rel_ebd", "layer_norm"}, {"pos_att_type", {"p2c", "c2p"}}, {"position_buckets", 8}};
  return c;
}

// A (B, T) batch for small_model_config: row b has T − b real tokens (random ids in [1, 120)), then padding id 0;
// labels b mod 3.
inline Batch small_padded_batch(int64_t B, int64_t T, uint64_t seed) {
  Batch batch;
  batch.B = B, batch.T = T;
  Rng rng(seed);
  for (int64_t b = 0; b < B; ++b) {
    const int64_t len = T - b;
    for (int64_t t = 0; t < T; ++t) {
      batch.input_ids.push_back(t < len ? static_cast<int32_t>(1 + rng.below(119)) : 0);
      batch.token_type_ids.push_back(0);
      batch.attention_mask.push_back(t < len ? 1 : 0);
    }
    batch.class_labels.push_back(b % 3);
  }
  return batch;
}

}  // namespace accent::testing
