// models/peft_adapter.h — LoRA fine-tuning of a sequence classifier, saved and loaded exactly as PEFT does.
//
// LoraModel wraps a base SequenceClassifier (PEFT's PeftModelForSequenceClassification): a LoraAdapter
// (nn/lora.h) is attached to every target Linear, every base parameter is frozen (nn/freeze.h: no gradient
// buffer, no weight-gradient product, no AdamW state) except the classification head (modules_to_save
// ["classifier", "score"], trained in full) and the biases chosen by `bias` (none | all | lora_only).
//
// Files (PEFT ≥ 0.6 layout):
//   adapter_config.json         peft_type LORA, task_type SEQ_CLS, r, lora_alpha, lora_dropout, target_modules,
//                               bias, modules_to_save, base_model_name_or_path, fan_in_fan_out, inference_mode,
//                               use_rslora, init_lora_weights
//   adapter_model.safetensors   "base_model.model.<module>.lora_A.weight" (r, in), "….lora_B.weight" (out, r),
//                               "base_model.model.classifier.weight"/".bias", trained biases; metadata format pt
//   accent_labels.json          id2label / problem_type of the head (PEFT ignores it; without it labels are LABEL_i)
// Target matching as PEFT: a module is wrapped when its name equals a target or ends with "." + target;
// "all-linear" wraps every Linear except the classification head. GPT-2's Conv1D layers are wrapped too (PEFT's
// fan_in_fan_out = True: same A/B, the merge adds (scale·B·A)ᵀ to the (in, out) weight).
#pragma once
#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/classifier.h"
#include "models/lora_config.h"
#include "nn/lora.h"

namespace accent {

class LoraModel final : public SequenceClassifier {
 public:
  // Attaches adapters to `base` (A Kaiming-uniform from `seed`, B zero) and freezes the base as described above.
  // Throws when a target matches no module (listing the valid names) or when the model exposes no Linears.
  LoraModel(std::unique_ptr<SequenceClassifier> base, LoraConfig config, uint64_t seed);
  ~LoraModel() override;
  LoraModel(const LoraModel&) = delete;
  LoraModel& operator=(const LoraModel&) = delete;

  // Base parameters (frozen ones included) in state-dict order, then every adapter's A and B.
  ParameterList parameters() override;
  int64_t num_labels() const override { return base_->num_labels(); }
  ProblemType problem_type() const override { return base_->problem_type(); }
  ForwardResult forward(const Batch& batch) override;
  ForwardResult forward_backward(const Batch& batch, Rng& dropout_rng) override;
  const ModelConfig* config() const override { return base_->config(); }
  ModelTask task() const override { return base_->task(); }
  void set_problem_type(ProblemType type) override { base_->set_problem_type(type); }
  // Writes the adapter directory (adapter_config.json, adapter_model.safetensors, accent_labels.json).
  void save_pretrained(const std::string& dir) const override;
  // Moves the base model and every adapter into ctx's memory. Under bf16 mixed precision on the CPU the frozen
  // weights of the base's Linears are held in bf16 only (nn/linear.h hold_weight_in_bf16: the memory of a 0.5B
  // base drops by two thirds, the results are the same); any other context widens them back to fp32.
  void set_op_context(const OpContext& ctx) override;
  OpContext op_context() const override { return base_->op_context(); }
  std::vector<NamedLinear> linear_modules() override { return base_->linear_modules(); }
  // The base model's modules report as they finish; the adapters' own A/B are reduced after backward.
  void set_grad_ready_hook(GradReadyHook hook) override { base_->set_grad_ready_hook(std::move(hook)); }

  const LoraConfig& lora_config() const { return config_; }
  SequenceClassifier& base() { return *base_; }
  const std::vector<std::unique_ptr<LoraAdapter>>& adapters() const { return adapters_; }
  // The tensors of adapter_model.safetensors (PEFT key names).
  std::map<std::string, Tensor> adapter_tensors() const;
  // Loads adapter_model.safetensors tensors (PEFT names; ".base_layer" / "modules_to_save" spellings accepted).
  // Returns the model parameter names that were filled.
  std::set<std::string> load_adapter_tensors(const std::string& path);
  // PEFT merge_and_unload: W += scale·B·A for every adapter, adapters detached; returns the plain base model
  // (every parameter trainable again). The LoraModel is empty afterwards.
  std::unique_ptr<SequenceClassifier> merge_and_unload();

 private:
  bool is_head_parameter(const std::string& name) const;
  // hold_weight_in_bf16 (true) or restore_fp32_weight (false) on every frozen Linear weight of the base.
  void hold_frozen_weights_in_bf16(bool bf16);
  std::unique_ptr<SequenceClassifier> base_;
  LoraConfig config_;
  std::vector<std::unique_ptr<LoraAdapter>> adapters_;
  std::vector<NamedLinear> wrapped_;  // parallel to adapters_
};

// True when `dir` holds adapter_config.json (a PEFT adapter directory, not a full model).
bool is_adapter_dir(const std::string& dir);
LoraConfig read_adapter_config(const std::string& dir);
// Loads base + adapter: the base from `base_dir` (read only, never written), the head labels from
// accent_labels.json when present. Shapes that do not match the base are errors naming the tensor.
std::unique_ptr<LoraModel> load_lora_model(const std::string& adapter_dir, const std::string& base_dir);
// The base model directory of an adapter: `base_override` when non-empty, else adapter_config.json's
// base_model_name_or_path (a local directory, or a hub id resolved through the cache / download).
std::string resolve_adapter_base(const std::string& adapter_dir, const std::string& base_override, bool offline);
// `accent merge`: base + adapter with W + scale·B·A folded in, saved as a plain Hugging Face model directory
// (config.json + model.safetensors + the tokenizer of the adapter directory, else of the base).
void merge_adapter_to_dir(const std::string& adapter_dir, const std::string& base_dir, const std::string& output_dir);

}  // namespace accent
