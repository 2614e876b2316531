#include "io/model_summary.h"

#include <algorithm>
#include <filesystem>
#include <sstream>

#include "core/error.h"
#include "io/safetensors.h"
#include "io/torch_bin.h"

namespace accent {

namespace fs = std::filesystem;

ModelSummary summarize_model_dir(const std::string& dir) {
  ModelSummary s;
  s.dir = dir;
  if (!fs::is_directory(dir)) fail(dir, ": not a directory");
  const fs::path config_path = fs::path(dir) / "config.json";
  if (fs::exists(config_path)) {
    s.config = load_config(config_path.string());
    s.has_config = true;
  }
  if (fs::exists(fs::path(dir) / "model.safetensors") || fs::exists(fs::path(dir) / "model.safetensors.index.json")) {
    const SafetensorsCheckpoint ckpt = SafetensorsCheckpoint::open_dir(dir);
    for (const auto& name : ckpt.names()) {
      const SafetensorsEntry& e = ckpt.entry(name);
      TensorSummary t{name, e.dtype_string, e.shape, shape_numel(e.shape), ""};
      s.parameters += t.numel;
      s.weight_bytes += e.nbytes;
      s.tensors.push_back(std::move(t));
    }
    // Which file holds each tensor (a second pass over the files keeps SafetensorsCheckpoint's API small).
    std::vector<std::string> files;
    if (fs::exists(fs::path(dir) / "model.safetensors")) {
      files.push_back("model.safetensors");
    } else {
      for (const auto& de : fs::directory_iterator(dir)) {
        const std::string f = de.path().filename().string();
        if (f.starts_with("model-") && f.ends_with(".safetensors")) files.push_back(f);
      }
      std::sort(files.begin(), files.end());
    }
    std::map<std::string, std::string> file_of;
    for (const auto& f : files) {
      auto opened = SafetensorsFile::open((fs::path(dir) / f).string());
      for (const auto& n : opened->names()) file_of.emplace(n, f);
    }
    for (auto& t : s.tensors) t.file = file_of.count(t.name) ? file_of[t.name] : "";
    s.weight_files = files;
  } else if (fs::exists(fs::path(dir) / "pytorch_model.bin") ||
             fs::exists(fs::path(dir) / "pytorch_model.bin.index.json")) {
    // Restricted torch.save reader (nothing executed); loads the data, fine for a summary.
    const bool sharded = !fs::exists(fs::path(dir) / "pytorch_model.bin");
    for (const auto& [name, t] : load_torch_bin_dir(dir)) {
      s.tensors.push_back({name, std::string(dtype_name(t.dtype())), t.shape(), t.numel(),
                           sharded ? "" : "pytorch_model.bin"});
      s.parameters += t.numel();
      s.weight_bytes += t.nbytes();
    }
    s.weight_files.push_back(sharded ? "pytorch_model.bin.index.json" : "pytorch_model.bin");
    s.weights_note = "pytorch_model.bin (torch.save) weights; prefer model.safetensors";
  } else {
    s.weights_note = "no weights (model.safetensors) in this directory";
  }
  for (const char* f : {"tokenizer.json", "vocab.txt", "vocab.json", "merges.txt", "tokenizer_config.json",
                        "special_tokens_map.json", "added_tokens.json"})
    if (fs::exists(fs::path(dir) / f)) s.other_files.push_back(f);
  return s;
}

namespace {
std::string with_commas(int64_t n) {
  std::string digits = std::to_string(n), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string human_bytes(uint64_t b) {
  const char* units[] = {"B", "KB", "MB", "GB", "TB"};
  double v = static_cast<double>(b);
  int u = 0;
  while (v >= 1000 && u < 4) {
    v /= 1000;
    ++u;
  }
  std::ostringstream os;
  os.precision(u == 0 ? 0 : 1);
  os << std::fixed << v << " " << units[u];
  return os.str();
}

std::string shape_compact(const Shape& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
}  // namespace

std::string format_summary_table(const ModelSummary& s) {
  std::ostringstream os;
  os << "model         " << s.dir << "\n";
  if (s.has_config) {
    const ModelConfig& c = s.config;
    std::string arch;
    for (const auto& a : c.architectures) arch += (arch.empty() ? "" : ", ") + a;
    os << "model_type    " << (c.model_type.empty() ? "(none)" : c.model_type) << (arch.empty() ? "" : "  (" + arch + ")")
       << "\n";
    os << "layers        " << c.num_hidden_layers << "\n";
    os << "hidden        " << c.hidden_size << "  (intermediate " << c.intermediate_size << ")\n";
    os << "heads         " << c.num_attention_heads << "\n";
    os << "vocab         " << c.vocab_size << "  (max positions " << c.max_position_embeddings << ")\n";
    os << "labels        " << c.num_labels() << ":";
    for (const auto& [id, name] : c.id2label) os << " " << id << "=" << name;
    os << "\n";
    if (c.problem_type) os << "problem_type  " << *c.problem_type << "\n";
  } else {
    os << "config        (no config.json)\n";
  }
  if (!s.weights_note.empty()) os << "weights       " << s.weights_note << "\n";
  if (!s.weight_files.empty()) {
    os << "parameters    " << with_commas(s.parameters) << "  (" << human_bytes(s.weight_bytes) << " in "
       << s.weight_files.size() << (s.weight_files.size() == 1 ? " file" : " files") << ")\n";
  }
  if (!s.other_files.empty()) {
    os << "tokenizer     ";
    for (size_t i = 0; i < s.other_files.size(); ++i) os << (i ? ", " : "") << s.other_files[i];
    os << "\n";
  }
  if (!s.tensors.empty()) {
    size_t width = 4;
    for (const auto& t : s.tensors) width = std::max(width, t.name.size());
    os << "\n" << std::string("name") << std::string(width - 4 + 2, ' ') << "dtype  shape\n";
    for (const auto& t : s.tensors) {
      os << t.name << std::string(width - t.name.size() + 2, ' ') << t.dtype
         << std::string(t.dtype.size() < 7 ? 7 - t.dtype.size() : 1, ' ') << shape_compact(t.shape) << "\n";
    }
  }
  return os.str();
}

nlohmann::json summary_to_json(const ModelSummary& s) {
  using json = nlohmann::json;
  json j;
  j["path"] = s.dir;
  if (s.has_config) {
    const ModelConfig& c = s.config;
    json labels = json::object();
    for (const auto& [id, name] : c.id2label) labels[std::to_string(id)] = name;
    j["config"] = {{"model_type", c.model_type},
                   {"architectures", c.architectures},
                   {"num_hidden_layers", c.num_hidden_layers},
                   {"hidden_size", c.hidden_size},
                   {"num_attention_heads", c.num_attention_heads},
                   {"intermediate_size", c.intermediate_size},
                   {"vocab_size", c.vocab_size},
                   {"max_position_embeddings", c.max_position_embeddings},
                   {"num_labels", c.num_labels()},
                   {"id2label", labels},
                   {"problem_type", c.problem_type ? json(*c.problem_type) : json(nullptr)}};
  } else {
    j["config"] = nullptr;
  }
  j["parameters"] = s.parameters;
  j["weight_bytes"] = s.weight_bytes;
  j["weight_files"] = s.weight_files;
  if (!s.weights_note.empty()) j["weights_note"] = s.weights_note;
  j["tokenizer_files"] = s.other_files;
  json tensors = json::array();
  for (const auto& t : s.tensors)
    tensors.push_back({{"name", t.name}, {"dtype", t.dtype}, {"shape", t.shape}, {"numel", t.numel}, {"file", t.file}});
  j["tensors"] = tensors;
  return j;
}

}  // namespace accent
