// io/config.cpp — config.json read/write with transformers' conventions (checkpoints.md §3, pipeline.md §1).
//
// Reading: each family spells the shared fields its own way (DistilBERT `dim`, GPT-2 `n_embd`, ...); a key that is
// absent takes the family class default (BertConfig, RobertaConfig, DistilBertConfig, GPT2Config, ElectraConfig
// in transformers 4.44). Everything else is kept verbatim in `extra`.
// Writing: like `PretrainedConfig.to_json_string(use_diff=True)`: every model-specific key, base-config keys only
// when they differ from PretrainedConfig's defaults, `transformers_version`, json indent 2, sorted keys, "\n".
#include "io/config.h"

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_number.h"
#include "core/json_parse.h"
#include "io/python_json.h"

namespace accent {

namespace {
using json = nlohmann::json;

constexpr const char* kTransformersVersion = "4.44.2";

// How one family names the typed fields ("" = the family has no such key).
struct FamilyKeys {
  const char* vocab_size = "vocab_size";
  const char* hidden_size = "hidden_size";
  const char* num_hidden_layers = "num_hidden_layers";
  const char* num_attention_heads = "num_attention_heads";
  const char* intermediate_size = "intermediate_size";
  const char* max_position_embeddings = "max_position_embeddings";
  const char* type_vocab_size = "type_vocab_size";
  const char* embedding_size = "";
  const char* hidden_act = "hidden_act";
  const char* layer_norm_eps = "layer_norm_eps";
  const char* hidden_dropout_prob = "hidden_dropout_prob";
  const char* attention_probs_dropout_prob = "attention_probs_dropout_prob";
  const char* classifier_dropout = "classifier_dropout";
  const char* initializer_range = "initializer_range";
  const char* position_embedding_type = "position_embedding_type";
};

struct Family {
  FamilyKeys keys;
  ModelConfig defaults;  // class defaults of the typed fields
  json extra_defaults;   // model-specific keys HF writes even when absent from the loaded file
};

Family bert_family() {
  Family f;
  f.defaults.pad_token_id = 0;
  f.extra_defaults = {{"use_cache", true}};
  return f;
}

Family family_for(const std::string& model_type) {
  if (model_type == "roberta") {
    Family f = bert_family();
    f.defaults.pad_token_id = 1;
    f.extra_defaults = {{"use_cache", true}, {"bos_token_id", 0}, {"eos_token_id", 2}};
    return f;
  }
  if (model_type == "electra") {
    Family f = bert_family();
    f.keys.embedding_size = "embedding_size";
    f.defaults.embedding_size = 128;
    f.defaults.hidden_size = 256;
    f.defaults.num_attention_heads = 4;
    f.defaults.intermediate_size = 1024;
    f.extra_defaults = {{"use_cache", true},         {"summary_type", "first"},     {"summary_use_proj", true},
                        {"summary_activation", "gelu"}, {"summary_last_dropout", 0.1}};
    return f;
  }
  if (model_type == "distilbert") {
    Family f;
    f.keys.hidden_size = "dim";
    f.keys.num_hidden_layers = "n_layers";
    f.keys.num_attention_heads = "n_heads";
    f.keys.intermediate_size = "hidden_dim";
    f.keys.type_vocab_size = "";
    f.keys.hidden_act = "activation";
    f.keys.layer_norm_eps = "";  // fixed 1e-12 in modeling_distilbert.py
    f.keys.hidden_dropout_prob = "dropout";
    f.keys.attention_probs_dropout_prob = "attention_dropout";
    f.keys.classifier_dropout = "seq_classif_dropout";
    f.keys.position_embedding_type = "";  // sinusoidal_pos_embds (kept in extra) selects the alternative
    f.defaults.num_hidden_layers = 6;
    f.defaults.type_vocab_size = 0;
    f.defaults.classifier_dropout = 0.2;
    f.defaults.pad_token_id = 0;
    f.extra_defaults = {{"sinusoidal_pos_embds", false}, {"qa_dropout", 0.1}};
    return f;
  }
  if (model_type == "gpt2") {
    Family f;
    f.keys.hidden_size = "n_embd";
    f.keys.num_hidden_layers = "n_layer";
    f.keys.num_attention_heads = "n_head";
    f.keys.intermediate_size = "n_inner";  // null → 4·n_embd
    f.keys.max_position_embeddings = "n_positions";
    f.keys.type_vocab_size = "";
    f.keys.hidden_act = "activation_function";
    f.keys.layer_norm_eps = "layer_norm_epsilon";
    f.keys.hidden_dropout_prob = "resid_pdrop";
    f.keys.attention_probs_dropout_prob = "attn_pdrop";
    f.keys.classifier_dropout = "";
    f.keys.position_embedding_type = "";
    f.defaults.vocab_size = 50257;
    f.defaults.max_position_embeddings = 1024;
    f.defaults.type_vocab_size = 0;
    f.defaults.hidden_act = "gelu_new";
    f.defaults.layer_norm_eps = 1e-5;
    f.defaults.pad_token_id = std::nullopt;
    f.extra_defaults = {{"embd_pdrop", 0.1},
                        {"summary_type", "cls_index"},
                        {"summary_use_proj", true},
                        {"summary_activation", nullptr},
                        {"summary_proj_to_labels", true},
                        {"summary_first_dropout", 0.1},
                        {"scale_attn_weights", true},
                        {"use_cache", true},
                        {"bos_token_id", 50256},
                        {"eos_token_id", 50256},
                        {"scale_attn_by_inverse_layer_idx", false},
                        {"reorder_and_upcast_attn", false}};
    return f;
  }
  if (model_type == "modernbert") {  // ModernBertConfig
    Family f;
    f.keys.type_vocab_size = "";
    f.keys.hidden_act = "hidden_activation";
    f.keys.layer_norm_eps = "norm_eps";
    f.keys.hidden_dropout_prob = "";
    f.keys.attention_probs_dropout_prob = "attention_dropout";
    f.keys.position_embedding_type = "";
    f.defaults.vocab_size = 50368;
    f.defaults.hidden_size = 768;
    f.defaults.num_hidden_layers = 22;
    f.defaults.num_attention_heads = 12;
    f.defaults.intermediate_size = 1152;
    f.defaults.max_position_embeddings = 8192;
    f.defaults.type_vocab_size = 0;
    f.defaults.hidden_act = "gelu";
    f.defaults.layer_norm_eps = 1e-5;
    f.defaults.hidden_dropout_prob = 0.0;
    f.defaults.attention_probs_dropout_prob = 0.0;
    f.defaults.classifier_dropout = 0.0;
    f.defaults.pad_token_id = 50283;
    f.extra_defaults = {{"norm_bias", false},         {"attention_bias", false},    {"mlp_bias", false},
                        {"classifier_bias", false},   {"classifier_pooling", "cls"}, {"classifier_activation", "gelu"},
                        {"local_attention", 128},      {"embedding_dropout", 0.0},   {"mlp_dropout", 0.0},
                        {"initializer_cutoff_factor", 2.0}, {"bos_token_id", 50281}, {"eos_token_id", 50282},
                        {"cls_token_id", 50281},       {"sep_token_id", 50282}};
    return f;
  }
  if (model_type == "deberta-v2") {  // DebertaV2Config (the class defaults; DeBERTa-v3's files set most keys)
    Family f;
    f.keys.type_vocab_size = "";  // 0 in DeBERTa-v3 (no token types): kept in extra, checked by the model
    f.keys.classifier_dropout = "cls_dropout";
    f.keys.position_embedding_type = "";
    f.defaults.vocab_size = 128100;
    f.defaults.hidden_size = 1536;
    f.defaults.num_hidden_layers = 24;
    f.defaults.num_attention_heads = 24;
    f.defaults.intermediate_size = 6144;
    f.defaults.type_vocab_size = 0;
    f.defaults.layer_norm_eps = 1e-7;
    f.defaults.pad_token_id = 0;
    f.extra_defaults = {{"relative_attention", false}, {"max_relative_positions", -1},
                        {"position_biased_input", true}, {"pos_att_type", nullptr},
                        {"pooler_dropout", 0},           {"pooler_hidden_act", "gelu"},
                        {"legacy", true}};
    return f;
  }
  if (model_type == "qwen2" || model_type == "llama") {  // Qwen2Config / LlamaConfig
    const bool llama = model_type == "llama";
    Family f;
    f.keys.type_vocab_size = "";
    f.keys.layer_norm_eps = "rms_norm_eps";
    f.keys.hidden_dropout_prob = "";
    f.keys.attention_probs_dropout_prob = "attention_dropout";
    f.keys.classifier_dropout = "";
    f.keys.position_embedding_type = "";
    f.defaults.vocab_size = llama ? 32000 : 151936;
    f.defaults.hidden_size = 4096;
    f.defaults.num_hidden_layers = 32;
    f.defaults.num_attention_heads = 32;
    f.defaults.intermediate_size = llama ? 11008 : 22016;
    f.defaults.max_position_embeddings = llama ? 2048 : 32768;
    f.defaults.type_vocab_size = 0;
    f.defaults.hidden_act = "silu";
    f.defaults.layer_norm_eps = 1e-6;
    f.defaults.hidden_dropout_prob = 0.0;
    f.defaults.attention_probs_dropout_prob = 0.0;
    f.defaults.pad_token_id = std::nullopt;
    f.extra_defaults = {{"use_cache", true}, {"tie_word_embeddings", false}, {"rope_theta", 10000.0}};
    if (llama) f.extra_defaults.update({{"attention_bias", false}, {"mlp_bias", false}});
    return f;
  }
  return bert_family();  // bert and anything BERT-shaped
}

// PretrainedConfig attributes (transformers 4.44) with their defaults: written only when the value differs.
const json& base_config_defaults() {
  static const json defaults = {
      {"return_dict", true}, {"output_hidden_states", false}, {"output_attentions", false}, {"torchscript", false},
      {"use_bfloat16", false}, {"tf_legacy_loss", false}, {"pruned_heads", json::object()},
      {"tie_word_embeddings", true}, {"chunk_size_feed_forward", 0}, {"is_encoder_decoder", false},
      {"is_decoder", false}, {"cross_attention_hidden_size", nullptr}, {"add_cross_attention", false},
      {"tie_encoder_decoder", false}, {"max_length", 20}, {"min_length", 0}, {"do_sample", false},
      {"early_stopping", false}, {"num_beams", 1}, {"num_beam_groups", 1}, {"diversity_penalty", 0.0},
      {"temperature", 1.0}, {"top_k", 50}, {"top_p", 1.0}, {"typical_p", 1.0}, {"repetition_penalty", 1.0},
      {"length_penalty", 1.0}, {"no_repeat_ngram_size", 0}, {"encoder_no_repeat_ngram_size", 0},
      {"bad_words_ids", nullptr}, {"num_return_sequences", 1}, {"output_scores", false},
      {"return_dict_in_generate", false}, {"forced_bos_token_id", nullptr}, {"forced_eos_token_id", nullptr},
      {"remove_invalid_values", false}, {"exponential_decay_length_penalty", nullptr}, {"suppress_tokens", nullptr},
      {"begin_suppress_tokens", nullptr}, {"finetuning_task", nullptr}, {"tokenizer_class", nullptr},
      {"prefix", nullptr}, {"bos_token_id", nullptr}, {"eos_token_id", nullptr}, {"sep_token_id", nullptr},
      {"decoder_start_token_id", nullptr}, {"task_specific_params", nullptr}, {"_name_or_path", ""}};
  return defaults;
}

std::string describe(const json& v) {
  std::string text = v.dump();
  if (text.size() > 60) text = text.substr(0, 57) + "...";
  return std::string(v.type_name()) + " " + text;
}

// Typed readers: they consume the key from `rest` and name the file and key on a type error.
struct Reader {
  json rest;  // keys not yet consumed
  const std::string& origin;

  bool take(const char* key, json* out) {
    if (!key || !*key || !rest.contains(key)) return false;
    *out = rest[key];
    rest.erase(key);
    return true;
  }
  [[noreturn]] void type_error(const char* key, const char* expected, const json& got) {
    fail(origin, ": key \"", key, "\": expected ", expected, ", got ", describe(got));
  }
  void integer(const char* key, int64_t* out) {
    json v;
    if (!take(key, &v)) return;
    if (!v.is_number_integer()) type_error(key, "an integer", v);
    *out = json_integer(v, origin + ": key \"" + key + "\"");  // an unsigned above 2^63 is an error, not a wrap
  }
  void number(const char* key, double* out) {
    json v;
    if (!take(key, &v)) return;
    if (!v.is_number()) type_error(key, "a number", v);
    *out = v.get<double>();
  }
  void optional_number(const char* key, std::optional<double>* out) {
    json v;
    if (!take(key, &v)) return;
    if (v.is_null()) *out = std::nullopt;
    else if (v.is_number()) *out = v.get<double>();
    else type_error(key, "a number or null", v);
  }
  void optional_integer(const char* key, std::optional<int64_t>* out) {
    json v;
    if (!take(key, &v)) return;
    if (v.is_null()) *out = std::nullopt;
    else if (v.is_number_integer()) *out = json_integer(v, origin + ": key \"" + key + "\"");
    else type_error(key, "an integer or null", v);
  }
  void string(const char* key, std::string* out) {
    json v;
    if (!take(key, &v)) return;
    if (!v.is_string()) type_error(key, "a string", v);
    *out = v.get<std::string>();
  }
};

// Python's int(str) for id2label keys: optional sign and decimal digits (surrounding spaces allowed).
bool parse_label_id(const std::string& text, int64_t* out) {
  size_t b = text.find_first_not_of(' '), e = text.find_last_not_of(' ');
  if (b == std::string::npos) return false;
  const std::string s = text.substr(b, e - b + 1);
  size_t i = (s[0] == '-' || s[0] == '+') ? 1 : 0;
  if (i == s.size() || s.find_first_not_of("0123456789", i) != std::string::npos || s.size() > 18) return false;
  *out = std::stoll(s);
  return true;
}

bool is_default_labels(const ModelConfig& c) {
  return c.id2label == std::map<int64_t, std::string>{{0, "LABEL_0"}, {1, "LABEL_1"}} &&
         c.label2id == std::map<std::string, int64_t>{{"LABEL_0", 0}, {"LABEL_1", 1}};
}
}  // namespace

void ModelConfig::set_num_labels(int64_t n) {
  ACCENT_CHECK(n >= 1, "num_labels must be at least 1, got ", n);
  id2label.clear();
  label2id.clear();
  for (int64_t i = 0; i < n; ++i) {
    id2label[i] = "LABEL_" + std::to_string(i);
    label2id["LABEL_" + std::to_string(i)] = i;
  }
}

void ModelConfig::set_labels(const std::vector<std::string>& names) {
  ACCENT_CHECK(!names.empty(), "set_labels: no label names");
  id2label.clear();
  label2id.clear();
  for (size_t i = 0; i < names.size(); ++i) {
    ACCENT_CHECK(label2id.emplace(names[i], static_cast<int64_t>(i)).second, "set_labels: label \"", names[i],
                 "\" given twice");
    id2label[static_cast<int64_t>(i)] = names[i];
  }
}

ModelConfig parse_config(const json& j, const std::string& origin) {
  if (!j.is_object()) fail(origin, ": config must be a JSON object, got ", describe(j));
  Reader r{j, origin};
  std::string model_type;
  r.string("model_type", &model_type);
  const Family family = family_for(model_type);
  const FamilyKeys& k = family.keys;
  ModelConfig c = family.defaults;
  c.model_type = model_type;

  json v;
  if (r.take("architectures", &v) && !v.is_null()) {
    if (!v.is_array()) r.type_error("architectures", "a list of strings", v);
    for (const auto& a : v) {
      if (!a.is_string()) r.type_error("architectures", "a list of strings", v);
      c.architectures.push_back(a.get<std::string>());
    }
  }
  r.integer(k.vocab_size, &c.vocab_size);
  r.integer(k.hidden_size, &c.hidden_size);
  r.integer(k.num_hidden_layers, &c.num_hidden_layers);
  r.integer(k.num_attention_heads, &c.num_attention_heads);
  if (model_type == "gpt2") {
    std::optional<int64_t> n_inner;
    r.optional_integer(k.intermediate_size, &n_inner);
    int64_t four_n_embd;
    if (!n_inner && __builtin_mul_overflow(c.hidden_size, 4, &four_n_embd))
      fail(origin, ": key \"", k.hidden_size, "\": ", c.hidden_size, " is too large (n_inner = 4·n_embd overflows)");
    c.intermediate_size = n_inner ? *n_inner : four_n_embd;
  } else {
    r.integer(k.intermediate_size, &c.intermediate_size);
  }
  r.integer(k.max_position_embeddings, &c.max_position_embeddings);
  r.integer(k.type_vocab_size, &c.type_vocab_size);
  // In a family with token types (the key exists), 0 silently dropped the token-type embeddings.
  if (k.type_vocab_size && *k.type_vocab_size && c.type_vocab_size < 1)
    fail(origin, ": key \"", k.type_vocab_size, "\": ", c.type_vocab_size, "; expected a positive integer");
  r.optional_integer(k.embedding_size, &c.embedding_size);
  r.string(k.hidden_act, &c.hidden_act);
  r.number(k.layer_norm_eps, &c.layer_norm_eps);
  r.number(k.hidden_dropout_prob, &c.hidden_dropout_prob);
  r.number(k.attention_probs_dropout_prob, &c.attention_probs_dropout_prob);
  r.optional_number(k.classifier_dropout, &c.classifier_dropout);
  r.number(k.initializer_range, &c.initializer_range);
  r.string(k.position_embedding_type, &c.position_embedding_type);
  r.optional_integer("pad_token_id", &c.pad_token_id);
  if (r.take("problem_type", &v) && !v.is_null()) {
    if (!v.is_string()) r.type_error("problem_type", "a string or null", v);
    const std::string p = v.get<std::string>();
    if (p != "regression" && p != "single_label_classification" && p != "multi_label_classification")
      fail(origin, ": key \"problem_type\": \"", p,
           "\" is not one of regression, single_label_classification, multi_label_classification");
    c.problem_type = p;
  }

  // Labels: id2label wins; a legacy num_labels alone gives LABEL_i; default 2.
  json id2label, label2id, num_labels;
  const bool has_id2label = r.take("id2label", &id2label) && !id2label.is_null();
  const bool has_label2id = r.take("label2id", &label2id) && !label2id.is_null();
  const bool has_num_labels = r.take("num_labels", &num_labels);
  if (has_id2label) {
    if (!id2label.is_object()) r.type_error("id2label", "an object {\"0\": \"label\", ...}", id2label);
    for (const auto& [key, name] : id2label.items()) {
      int64_t id;
      if (!parse_label_id(key, &id)) fail(origin, ": key \"id2label\": \"", key, "\" is not an integer id");
      if (!name.is_string()) fail(origin, ": key \"id2label\": label of id ", key, ": expected a string, got ", describe(name));
      if (!c.id2label.emplace(id, name.get<std::string>()).second)
        fail(origin, ": key \"id2label\": id ", id, " appears twice");
    }
    for (int64_t i = 0; i < static_cast<int64_t>(c.id2label.size()); ++i)
      if (!c.id2label.count(i))
        fail(origin, ": key \"id2label\": ids must be 0..", c.id2label.size() - 1, " but id ", i, " is missing");
  } else if (has_num_labels) {
    if (!num_labels.is_number_integer() || num_labels.get<int64_t>() < 1)
      r.type_error("num_labels", "a positive integer", num_labels);
    // The names LABEL_0..LABEL_{n-1} are built here, before any size check could run: 10^9 of them exhausted
    // memory. No classifier comes near this many labels.
    constexpr int64_t kMaxNumLabels = 1 << 20;
    if (num_labels.get<int64_t>() > kMaxNumLabels)
      fail(origin, ": key \"num_labels\": ", num_labels.get<int64_t>(), " labels is more than accent supports (at most ",
           kMaxNumLabels, ")");
    c.set_num_labels(num_labels.get<int64_t>());
  } else {
    c.set_num_labels(2);
  }
  if (has_label2id) {
    if (!label2id.is_object()) r.type_error("label2id", "an object {\"label\": 0, ...}", label2id);
    for (const auto& [name, id] : label2id.items()) {
      if (!id.is_number_integer())
        fail(origin, ": key \"label2id\": id of \"", name, "\": expected an integer, got ", describe(id));
      c.label2id[name] = id.get<int64_t>();
    }
  }
  if (has_id2label && !has_label2id)
    for (const auto& [id, name] : c.id2label) c.label2id[name] = id;

  // The dtype the weights were saved in (`torch_dtype` up to transformers 4.55, `dtype` since 4.56).
  json dtype;
  if (r.take("torch_dtype", &dtype) | r.take("dtype", &dtype)) {
    if (!dtype.is_null() && !dtype.is_string()) r.type_error("torch_dtype", "a string", dtype);
    if (dtype.is_string()) c.saved_dtype = dtype.get<std::string>();
  }
  r.rest.erase("transformers_version");  // replaced by the writer's version on save
  c.extra = std::move(r.rest);
  return c;
}

ModelConfig parse_config_text(const std::string& text, const std::string& origin) {
  JsonParseOptions limits;
  limits.max_depth = kMaxConfigDepth;
  return parse_config(parse_json(text, origin, limits), origin);
}

ModelConfig load_config(const std::string& path) { return parse_config_text(read_file(path), path); }

std::string config_to_json_string(const ModelConfig& c) {
  const Family family = family_for(c.model_type);
  const FamilyKeys& k = family.keys;
  json out = json::object();
  // Kept keys, minus base-config attributes left at PretrainedConfig's default (to_diff_dict drops those).
  const json& base = base_config_defaults();
  for (const auto& [key, value] : c.extra.items()) {
    if (base.contains(key) && base[key] == value && !family.extra_defaults.contains(key)) continue;
    out[key] = value;
  }
  for (const auto& [key, value] : family.extra_defaults.items())
    if (!out.contains(key)) out[key] = value;

  auto put = [&](const char* key, json value) {
    if (key && *key) out[key] = std::move(value);
  };
  put(k.vocab_size, c.vocab_size);
  put(k.hidden_size, c.hidden_size);
  put(k.num_hidden_layers, c.num_hidden_layers);
  put(k.num_attention_heads, c.num_attention_heads);
  int64_t four_hidden;
  if (c.model_type == "gpt2" && !__builtin_mul_overflow(c.hidden_size, 4, &four_hidden) &&
      c.intermediate_size == four_hidden)
    put(k.intermediate_size, nullptr);  // GPT2Config default n_inner=None means 4·n_embd
  else
    put(k.intermediate_size, c.intermediate_size);
  put(k.max_position_embeddings, c.max_position_embeddings);
  put(k.type_vocab_size, c.type_vocab_size);
  put(k.embedding_size, c.embedding_size ? json(*c.embedding_size) : json(nullptr));
  put(k.hidden_act, c.hidden_act);
  put(k.layer_norm_eps, c.layer_norm_eps);
  put(k.hidden_dropout_prob, c.hidden_dropout_prob);
  put(k.attention_probs_dropout_prob, c.attention_probs_dropout_prob);
  put(k.classifier_dropout, c.classifier_dropout ? json(*c.classifier_dropout) : json(nullptr));
  put(k.initializer_range, c.initializer_range);
  put(k.position_embedding_type, c.position_embedding_type);
  // An explicit null where the family defaults to an id (BERT's 0) is written as null, as to_diff_dict does
  // (None differs from the class default), so reading the file back does not bring the default id back.
  if (c.pad_token_id) out["pad_token_id"] = *c.pad_token_id;
  else if (family.defaults.pad_token_id) out["pad_token_id"] = nullptr;
  if (!c.model_type.empty()) out["model_type"] = c.model_type;
  if (!c.architectures.empty()) out["architectures"] = c.architectures;
  if (c.problem_type) out["problem_type"] = *c.problem_type;
  if (!is_default_labels(c)) {
    json id2label = json::object(), label2id = json::object();
    for (const auto& [id, name] : c.id2label) id2label[std::to_string(id)] = name;
    for (const auto& [name, id] : c.label2id) label2id[name] = id;
    out["id2label"] = id2label;
    out["label2id"] = label2id;
  }
  out.erase("dtype");
  out["torch_dtype"] = "float32";  // accent saves float32 master weights
  out["transformers_version"] = kTransformersVersion;
  return python_json_dumps(out, 2) + "\n";
}

void save_config(const std::string& path, const ModelConfig& config) {
  write_file_atomic(path, config_to_json_string(config));
}

}  // namespace accent
