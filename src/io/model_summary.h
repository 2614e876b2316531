// io/model_summary.h — what `accent inspect` prints: a model directory's config and weights at a glance.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "io/config.h"

namespace accent {

struct TensorSummary {
  std::string name;
  std::string dtype;  // safetensors spelling
  Shape shape;
  int64_t numel = 0;
  std::string file;   // which file of the directory holds it
};

struct ModelSummary {
  std::string dir;
  bool has_config = false;
  ModelConfig config;
  std::vector<std::string> weight_files;  // model.safetensors, or the shards in index order
  std::vector<TensorSummary> tensors;     // in file order
  int64_t parameters = 0;                 // Σ numel over all tensors
  uint64_t weight_bytes = 0;
  std::vector<std::string> other_files;   // tokenizer files etc. found in the directory
  std::string weights_note;               // e.g. "only pytorch_model.bin (not read by accent yet)"
};

// Reads config.json (if present) and the safetensors headers (data is mapped, not read) of `dir`.
ModelSummary summarize_model_dir(const std::string& dir);
// For people: config summary, parameter count, then one line per tensor.
std::string format_summary_table(const ModelSummary& s);
// For machines.
nlohmann::json summary_to_json(const ModelSummary& s);

}  // namespace accent
