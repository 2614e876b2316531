// models/lora_config.h — a LoRA adapter's configuration (PEFT's adapter_config.json) and accent's label file
// beside it (accent_labels.json): what is read from and written to those files, checked, with no model code —
// so that the readers can be fuzzed on their own (fuzz/adapter_config_fuzz.cpp).
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "models/model_task.h"
#include "nn/lora.h"

namespace accent {

// Ranks above this are refused: A and B hold r × (in + out) floats per target, and PEFT's ranks are 4..256.
constexpr int64_t kMaxLoraRank = 65536;

struct LoraConfig {
  // PEFT's task_type: SEQ_CLS, TOKEN_CLS or QUESTION_ANS (the head the adapter trains, models/model_task.h).
  std::string task_type = "SEQ_CLS";
  LoraHyper hyper;                          // r, lora_alpha, lora_dropout, use_rslora
  std::vector<std::string> target_modules;  // empty → PEFT's default for the model type
  std::string bias = "none";                // none | all | lora_only
  // PEFT's heads per task: classifier_module_names ["classifier", "score"] (SEQ_CLS, TOKEN_CLS), qa_module_names
  // ["qa_outputs"] (QUESTION_ANS) — see default_modules_to_save.
  std::vector<std::string> modules_to_save = {"classifier", "score"};
  std::string base_model_name_or_path;
  bool fan_in_fan_out = false;
  bool init_lora_weights = true;

  void validate() const;  // r in [1, kMaxLoraRank], alpha > 0, dropout in [0, 1), bias spelling
  nlohmann::json to_json() const;  // adapter_config.json
  // Reads adapter_config.json (as PEFT writes it; unknown keys are ignored). `origin` names the file in errors.
  static LoraConfig from_json(const nlohmann::json& j, const std::string& origin);
};

// PEFT's task_type for a head, and back ("SEQ_CLS" / "TOKEN_CLS" / "QUESTION_ANS"; other spellings throw).
const char* peft_task_type(ModelTask task);
ModelTask task_of_peft_task_type(const std::string& task_type, const std::string& origin);
// The modules PeftModelFor<Task> trains in full beside the adapter.
std::vector<std::string> default_modules_to_save(ModelTask task);

// PEFT's TRANSFORMERS_MODELS_TO_LORA_TARGET_MODULES_MAPPING: bert/roberta/electra → query,value; gpt2 → c_attn;
// distilbert → q_lin,v_lin. Throws for a model type without a default (then --lora-target-modules is needed).
std::vector<std::string> default_lora_target_modules(const std::string& model_type);

// accent_labels.json: the head's label names (id2label, ids 0..n-1) and problem_type.
struct AdapterLabels {
  std::vector<std::string> id2label;
  std::optional<std::string> problem_type;  // single_label_classification | multi_label_classification | regression
};
AdapterLabels adapter_labels_from_json(const nlohmann::json& j, const std::string& origin);

}  // namespace accent
