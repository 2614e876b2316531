// io/config.h — config.json of a Hugging Face model (spec: the shared spec, spec/checkpoints.md §3, pipeline.md §1).
//
// Typed fields for what accent computes with; every other key of the file is kept in `extra` and written back
// unchanged, so a config read and saved by accent loses nothing.
#pragma once
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace accent {

struct ModelConfig {
  std::string model_type;                  // "bert", "roberta", "distilbert", "gpt2", "electra"
  std::vector<std::string> architectures;  // e.g. {"BertForSequenceClassification"}

  // Transformer shape. Family aliases are mapped on load (DistilBERT dim/n_layers/n_heads/hidden_dim,
  // GPT-2 n_embd/n_layer/n_head/n_inner/n_positions) and written back under the family's own names.
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  std::optional<int64_t> embedding_size;   // ELECTRA only (null → hidden_size)
  std::string hidden_act = "gelu";         // "gelu" (erf), "gelu_new", "relu", ...
  double layer_norm_eps = 1e-12;
  double hidden_dropout_prob = 0.1;
  double attention_probs_dropout_prob = 0.1;
  std::optional<double> classifier_dropout;  // null → hidden_dropout_prob
  double initializer_range = 0.02;
  std::string position_embedding_type = "absolute";
  std::optional<int64_t> pad_token_id;

  // Labels. id2label keys are strings in JSON ("0"); num_labels = id2label.size(), default 2 (LABEL_0, LABEL_1).
  std::map<int64_t, std::string> id2label;
  std::map<std::string, int64_t> label2id;
  std::optional<std::string> problem_type;  // "single_label_classification", "multi_label_classification", "regression"

  // The weights' dtype named by the loaded file (`torch_dtype`, or `dtype` since transformers 4.56), "" when
  // absent. Informational: config_to_json_string always writes `torch_dtype: "float32"` (accent saves fp32).
  std::string saved_dtype;

  nlohmann::json extra = nlohmann::json::object();  // every key not listed above, preserved verbatim

  int64_t num_labels() const { return static_cast<int64_t>(id2label.size()); }
  // Sets id2label/label2id to LABEL_0..LABEL_{n-1}.
  void set_num_labels(int64_t n);
  // Sets id2label/label2id from label names in id order.
  void set_labels(const std::vector<std::string>& names);
};

// Parses config.json text / file (`origin` names the file in error messages).
ModelConfig parse_config(const nlohmann::json& j, const std::string& origin);
// JSON nesting deeper than this is refused by parse_config_text/load_config: Python's json module (what
// transformers reads configs with) stops near 1000 levels, and accent's JSON writers recurse once per level.
constexpr int kMaxConfigDepth = 512;
ModelConfig parse_config_text(const std::string& text, const std::string& origin);
ModelConfig load_config(const std::string& path);
// Serialises like transformers' to_json_string: 2-space indent, sorted keys, trailing newline; id2label keys as
// strings; `torch_dtype` "float32" and `transformers_version` written.
// Family fields are written under the family's own names (DistilBERT `dim`, GPT-2 `n_embd`, ...; GPT-2 `n_inner`
// null when it equals 4·n_embd), the family's class-default keys are added when missing (e.g. `use_cache`,
// `classifier_dropout: null`), base PretrainedConfig keys equal to their default are dropped (to_diff_dict),
// id2label/label2id are omitted when equal to the 2-label default, floats are written as Python's repr.
std::string config_to_json_string(const ModelConfig& config);
// Atomic write of config_to_json_string(config) to `path`.
void save_config(const std::string& path, const ModelConfig& config);

}  // namespace accent
