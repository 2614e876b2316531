#include "models/peft_adapter.h"

#include <algorithm>
#include <filesystem>
#include <regex>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"
#include "io/hub.h"
#include "io/model_dir_save.h"
#include "io/safetensors.h"
#include "models/registry.h"
#include "nn/freeze.h"
#include "nn/parameter_placement.h"
#include "ops/memory.h"
#include "text/tokenizer.h"

namespace fs = std::filesystem;

namespace accent {

namespace {

constexpr const char* kPrefix = "base_model.model.";
constexpr const char* kAllLinear = "all-linear";

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// PEFT check_target_module_exists (list form): exact name or a ".<target>" suffix.
bool matches_target(const std::string& module, const std::string& target) {
  return module == target || ends_with(module, "." + target);
}

std::string join(const std::vector<std::string>& v, const std::string& sep = ", ") {
  std::string s;
  for (size_t i = 0; i < v.size(); ++i) s += (i ? sep : "") + v[i];
  return s;
}

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (size_t pos = s.find(from); pos != std::string::npos; pos = s.find(from, pos)) s.replace(pos, from.size(), to);
}

}  // namespace

// ---------------------------------------------------------------------------------------------- model

// PEFT's rule for modules_to_save (_set_trainable): every module whose full name ends with an entry — a plain
// string suffix, so "classifier" also takes DistilBERT's "pre_classifier" — is wrapped whole, and with it every
// parameter below it (RoBERTa's and ELECTRA's classifier.dense and classifier.out_proj). PeftModel.from_pretrained
// expects exactly those tensors in the adapter file (found by loading accent's adapters with PEFT 0.21).
bool LoraModel::is_head_parameter(const std::string& name) const {
  for (size_t dot = name.find('.'); dot != std::string::npos; dot = name.find('.', dot + 1)) {
    const std::string module = name.substr(0, dot);  // each enclosing module: "classifier", "classifier.dense", …
    for (const std::string& m : config_.modules_to_save)
      if (ends_with(module, m)) return true;
  }
  return false;
}

LoraModel::LoraModel(std::unique_ptr<SequenceClassifier> base, LoraConfig config, uint64_t seed)
    : base_(std::move(base)), config_(std::move(config)) {
  config_.validate();
  ACCENT_CHECK(base_ != nullptr, "LoRA: no base model");
  if (config_.target_modules.empty()) {
    const ModelConfig* mc = base_->config();
    ACCENT_CHECK(mc != nullptr, "LoRA: the base model has no config; pass target modules explicitly");
    config_.target_modules = default_lora_target_modules(mc->model_type.empty() ? "bert" : mc->model_type);
  }
  std::vector<NamedLinear> linears = base_->linear_modules();
  ACCENT_CHECK(!linears.empty(), "LoRA: this model family does not expose its Linear layers, so it cannot be wrapped");

  const bool all_linear = config_.target_modules.size() == 1 && config_.target_modules[0] == kAllLinear;
  const bool regex = !all_linear && config_.target_modules.size() == 1 &&
                     config_.target_modules[0].find_first_of("*[(|\\") != std::string::npos;
  std::set<std::string> used;
  const Rng root(seed);
  for (const NamedLinear& nl : linears) {
    bool wrap = false;
    if (is_head_parameter(nl.name + ".weight")) {
      wrap = false;  // the head is trained in full (modules_to_save), never wrapped — also not by all-linear
    } else if (all_linear) {
      wrap = true;
    } else if (regex) {
      wrap = std::regex_match(nl.name, std::regex(config_.target_modules[0]));  // PEFT: re.fullmatch
      if (wrap) used.insert(config_.target_modules[0]);
    } else {
      for (const std::string& t : config_.target_modules)
        if (matches_target(nl.name, t)) wrap = true, used.insert(t);
    }
    if (!wrap) continue;
    auto adapter = std::make_unique<LoraAdapter>(nl.name, nl.in_features(), nl.out_features(), config_.hyper);
    adapter->init(root.fork(adapters_.size()));
    ACCENT_CHECK(nl.lora() == nullptr, "LoRA: module ", nl.name, " already has an adapter");
    nl.lora() = adapter.get();
    // PEFT (LoraModel._create_new_module) forces fan_in_fan_out to match the wrapped layer — True for GPT-2's
    // Conv1D, False for nn.Linear — and writes that value back into the config it saves.
    config_.fan_in_fan_out = nl.is_conv1d();
    wrapped_.push_back(nl);
    adapters_.push_back(std::move(adapter));
  }
  if (!all_linear) {
    std::vector<std::string> unknown;
    for (const std::string& t : config_.target_modules)
      if (!used.count(t)) unknown.push_back(t);
    if (!unknown.empty()) {
      std::set<std::string> valid;  // short names (last component) of every wrappable Linear
      for (const NamedLinear& nl : linears)
        if (!is_head_parameter(nl.name + ".weight")) valid.insert(nl.name.substr(nl.name.rfind('.') + 1));
      fail("LoRA target module(s) ", join(unknown), " not found in the model; valid names: ",
           join(std::vector<std::string>(valid.begin(), valid.end())), ", all-linear (or full module names such as ",
           linears.front().name, ")");
    }
  }
  ACCENT_CHECK(!adapters_.empty(), "LoRA: the target modules matched no Linear layer");

  // Freeze: everything but the head, then re-enable biases as PEFT's mark_only_lora_as_trainable does.
  std::set<std::string> wrapped_bias;
  for (const NamedLinear& l : wrapped_)
    if (const Parameter* b = l.bias()) wrapped_bias.insert(b->name);
  for (Parameter* p : base_->parameters()) {
    bool train = is_head_parameter(p->name);
    if (config_.bias == "all" && p->name.find("bias") != std::string::npos) train = true;
    if (config_.bias == "lora_only" && wrapped_bias.count(p->name)) train = true;
    if (train) unfreeze(*p);
    else freeze(*p);
  }
}

LoraModel::~LoraModel() {
  for (const NamedLinear& l : wrapped_) l.lora() = nullptr;
}

ParameterList LoraModel::parameters() {
  ParameterList out = base_->parameters();
  for (auto& a : adapters_) a->collect(out);
  return out;
}

ForwardResult LoraModel::forward(const Batch& batch) {
  for (auto& a : adapters_) a->set_dropout_rng(nullptr);
  return base_->forward(batch);
}

ForwardResult LoraModel::forward_backward(const Batch& batch, Rng& dropout_rng) {
  // LoRA dropout draws from its own stream, derived from the step's dropout RNG position (reproducible/resumable).
  Rng lora_rng = Rng(dropout_rng.seed(), 0).fork(0x4c6f5241ULL + dropout_rng.counter());
  lora_rng.set_shard(dropout_rng.shard_index(), dropout_rng.shard_count());  // data-parallel: this rank's rows
  for (auto& a : adapters_) a->set_dropout_rng(&lora_rng);
  ForwardResult r = base_->forward_backward(batch, dropout_rng);
  for (auto& a : adapters_) a->set_dropout_rng(nullptr);
  return r;
}

void LoraModel::set_op_context(const OpContext& ctx) {
  const bool bf16_base = ctx.backend == Backend::Cpu && ctx.precision == Precision::BF16;
  if (!bf16_base) hold_frozen_weights_in_bf16(false);  // before any move: held weights live on the host
  base_->set_op_context(ctx);
  ParameterList adapter_params;
  for (auto& a : adapters_) a->collect(adapter_params);
  move_parameters(adapter_params, memory_for(ctx));
  if (bf16_base) hold_frozen_weights_in_bf16(true);
}

void LoraModel::hold_frozen_weights_in_bf16(bool bf16) {
  for (const NamedLinear& nl : base_->linear_modules()) {
    if (nl.is_conv1d() || nl.linear->weight.trainable) continue;  // GPT-2's Conv1D keeps fp32
    if (bf16)
      nl.linear->hold_weight_in_bf16();
    else
      nl.linear->restore_fp32_weight();
  }
}

std::map<std::string, Tensor> LoraModel::adapter_tensors() const {
  std::map<std::string, Tensor> out;
  for (const auto& a : adapters_) {
    out[kPrefix + a->A.name] = a->A.value;
    out[kPrefix + a->B.name] = a->B.value;
  }
  for (Parameter* p : base_->parameters())
    if (p->trainable) out[kPrefix + p->name] = p->value;  // head (modules_to_save) and trained biases
  return out;
}

void LoraModel::save_pretrained(const std::string& dir) const {
  std::error_code ec;
  fs::create_directories(dir, ec);
  ACCENT_CHECK(!ec, dir, ": cannot create the adapter directory (", ec.message(), ")");
  save_safetensors((fs::path(dir) / "adapter_model.safetensors").string(), adapter_tensors());
  if (const ModelConfig* mc = base_->config()) {
    nlohmann::json labels;
    nlohmann::json id2label = nlohmann::json::object();
    for (const auto& [id, name] : mc->id2label) id2label[std::to_string(id)] = name;
    labels["id2label"] = id2label;
    labels["problem_type"] = mc->problem_type ? nlohmann::json(*mc->problem_type) : nlohmann::json(nullptr);
    labels["model_type"] = mc->model_type;
    write_file_atomic((fs::path(dir) / "accent_labels.json").string(), labels.dump(2) + "\n");
  }
  write_file_atomic((fs::path(dir) / "adapter_config.json").string(), config_.to_json().dump(2) + "\n");
}

std::set<std::string> LoraModel::load_adapter_tensors(const std::string& path) {
  auto file = SafetensorsFile::open(path);
  std::map<std::string, Parameter*> by_name;
  for (auto& a : adapters_) by_name[a->A.name] = &a->A, by_name[a->B.name] = &a->B;
  for (Parameter* p : base_->parameters()) by_name[p->name] = p;
  std::set<std::string> loaded;
  for (const std::string& key : file->names()) {
    std::string name = key;
    if (name.rfind(kPrefix, 0) == 0) name = name.substr(std::string(kPrefix).size());
    replace_all(name, ".base_layer.", ".");
    replace_all(name, ".modules_to_save.default.", ".");
    replace_all(name, ".modules_to_save.", ".");
    replace_all(name, ".lora_A.default.", ".lora_A.");
    replace_all(name, ".lora_B.default.", ".lora_B.");
    auto it = by_name.find(name);
    ACCENT_CHECK(it != by_name.end(), path, ": tensor ", key, " does not belong to this base model with targets [",
                 join(config_.target_modules), "] (no module parameter ", name, ")");
    Parameter* p = it->second;
    const SafetensorsEntry& e = file->entry(key);
    ACCENT_CHECK(e.shape == p->value.shape(), path, ": tensor ", key, " has shape ", shape_str(e.shape),
                 " but the base model's ", p->name, " needs ", shape_str(p->value.shape()),
                 " — the adapter was trained on a base model of another size");
    p->value = file->load(key, DType::F32).to_memory(p->value.memory());
    loaded.insert(name);
  }
  for (auto& a : adapters_)
    for (const Parameter* p : {&a->A, &a->B})
      ACCENT_CHECK(loaded.count(p->name), path, ": tensor ", kPrefix, p->name, " is missing");
  return loaded;
}

std::unique_ptr<SequenceClassifier> LoraModel::merge_and_unload() {
  hold_frozen_weights_in_bf16(false);  // the merge (and the plain model) read fp32 weights
  OpContext ctx = op_context();
  if (!memory_for(ctx).is_host()) {  // the merge runs on the host, once
    ctx.backend = Backend::Cpu;
    set_op_context(ctx);
  }
  for (size_t i = 0; i < adapters_.size(); ++i) {
    adapters_[i]->merge_into(wrapped_[i].weight().value.f32(), wrapped_[i].is_conv1d());
    wrapped_[i].lora() = nullptr;
  }
  adapters_.clear();
  wrapped_.clear();
  for (Parameter* p : base_->parameters()) unfreeze(*p);
  return std::move(base_);
}

// ---------------------------------------------------------------------------------------------- loading

bool is_adapter_dir(const std::string& dir) { return fs::is_regular_file(fs::path(dir) / "adapter_config.json"); }

LoraConfig read_adapter_config(const std::string& dir) {
  const std::string path = (fs::path(dir) / "adapter_config.json").string();
  return LoraConfig::from_json(read_json_file(path), path);
}

std::unique_ptr<LoraModel> load_lora_model(const std::string& adapter_dir, const std::string& base_dir) {
  LoraConfig config = read_adapter_config(adapter_dir);
  const std::string weights = (fs::path(adapter_dir) / "adapter_model.safetensors").string();
  ACCENT_CHECK(fs::exists(weights), adapter_dir, ": adapter_model.safetensors is missing (adapter_model.bin is not "
               "read; re-save the adapter with safe_serialization=True)");
  LoadOptions load;
  load.print_warnings = false;
  load.ignore_mismatched_sizes = true;  // the head comes from the adapter file
  load.task = task_of_peft_task_type(config.task_type, adapter_dir);  // PeftModelFor<Task> on AutoModelFor<Task>
  const fs::path labels_path = fs::path(adapter_dir) / "accent_labels.json";
  if (fs::exists(labels_path)) {
    AdapterLabels labels = adapter_labels_from_json(read_json_file(labels_path.string()), labels_path.string());
    load.problem_type = labels.problem_type;
    if (load.problem_type && *load.problem_type == "regression") load.num_labels = 1;
    else load.labels = std::move(labels.id2label);
  } else {
    // No label names: the head's row count gives num_labels (labels LABEL_i), as PEFT + transformers would need.
    auto file = SafetensorsFile::open(weights);
    for (const std::string& head : config.modules_to_save)
      for (const std::string& key : file->names())
        if (ends_with(key, "." + head + ".weight") && file->entry(key).shape.size() == 2)
          load.num_labels = file->entry(key).shape[0];
  }
  LoadReport report;
  std::unique_ptr<SequenceClassifier> base = load_sequence_classifier(base_dir, load, &report);
  auto model = std::make_unique<LoraModel>(std::move(base), config, /*seed=*/0);
  const std::set<std::string> loaded = model->load_adapter_tensors(weights);
  // A head that is neither in the adapter nor (with the right shape) in the base would be random: refuse.
  std::set<std::string> fresh(report.missing_keys.begin(), report.missing_keys.end());
  for (const MismatchedKey& m : report.mismatched_keys) fresh.insert(m.name);
  for (Parameter* p : model->base().parameters())
    ACCENT_CHECK(!p->trainable || loaded.count(p->name) || !fresh.count(p->name), weights, ": the trained tensor ",
                 kPrefix, p->name, " is in neither the adapter nor the base model ", base_dir);
  return model;
}

std::string resolve_adapter_base(const std::string& adapter_dir, const std::string& base_override, bool offline) {
  std::string base = base_override;
  if (base.empty()) base = read_adapter_config(adapter_dir).base_model_name_or_path;
  ACCENT_CHECK(!base.empty(), adapter_dir, ": adapter_config.json has no base_model_name_or_path; pass --base-model");
  HubOptions hub = HubOptions::from_env();
  if (offline) hub.offline = true;
  return resolve_pretrained(base, default_pretrained_files(), hub);
}

void merge_adapter_to_dir(const std::string& adapter_dir, const std::string& base_dir, const std::string& output_dir) {
  ACCENT_CHECK(fs::weakly_canonical(output_dir) != fs::weakly_canonical(base_dir), output_dir,
               ": the merged model must not overwrite the base model directory");
  recover_interrupted_save(adapter_dir);
  std::unique_ptr<LoraModel> lora = load_lora_model(adapter_dir, base_dir);
  std::unique_ptr<SequenceClassifier> merged = lora->merge_and_unload();
  // The merged model replaces whatever model output_dir held, as a whole (io/model_dir_save.h).
  ModelDirSave save(output_dir);
  merged->save_pretrained(save.staging_dir());
  const bool own = fs::exists(fs::path(adapter_dir) / "tokenizer.json") || fs::exists(fs::path(adapter_dir) / "vocab.txt");
  Tokenizer::from_pretrained(own ? adapter_dir : base_dir).save_pretrained(save.staging_dir());
  save.commit();
}

}  // namespace accent
