// models/lora_config.cpp — see lora_config.h.
#include "models/lora_config.h"

#include <algorithm>

#include "core/error.h"
#include "core/json_number.h"

namespace accent {

const char* peft_task_type(ModelTask task) {
  switch (task) {
    case ModelTask::SequenceClassification: return "SEQ_CLS";
    case ModelTask::TokenClassification: return "TOKEN_CLS";
    case ModelTask::QuestionAnswering: return "QUESTION_ANS";
  }
  return "";
}

ModelTask task_of_peft_task_type(const std::string& task_type, const std::string& origin) {
  for (ModelTask t : {ModelTask::SequenceClassification, ModelTask::TokenClassification, ModelTask::QuestionAnswering})
    if (task_type == peft_task_type(t)) return t;
  fail(origin, ": task_type ", task_type, " is not supported (SEQ_CLS, TOKEN_CLS or QUESTION_ANS)");
}

std::vector<std::string> default_modules_to_save(ModelTask task) {
  if (task == ModelTask::QuestionAnswering) return {"qa_outputs"};
  return {"classifier", "score"};
}

void LoraConfig::validate() const {
  ACCENT_CHECK(hyper.r > 0 && hyper.r <= kMaxLoraRank, "LoRA rank r must be an integer in [1, ", kMaxLoraRank, "], got ",
               hyper.r);
  ACCENT_CHECK(hyper.alpha > 0, "lora_alpha must be positive, got ", hyper.alpha);
  ACCENT_CHECK(hyper.dropout >= 0 && hyper.dropout < 1, "lora_dropout must be in [0, 1), got ", hyper.dropout);
  ACCENT_CHECK(bias == "none" || bias == "all" || bias == "lora_only", "LoRA bias must be none, all or lora_only, got '",
               bias, "'");
}

nlohmann::json LoraConfig::to_json() const {
  nlohmann::json j;
  j["peft_type"] = "LORA";
  j["task_type"] = task_type;
  j["r"] = hyper.r;
  j["lora_alpha"] = hyper.alpha;
  j["lora_dropout"] = hyper.dropout;
  j["target_modules"] = target_modules;
  j["bias"] = bias;
  j["modules_to_save"] = modules_to_save;
  j["base_model_name_or_path"] = base_model_name_or_path;
  j["fan_in_fan_out"] = fan_in_fan_out;
  j["inference_mode"] = true;
  j["use_rslora"] = hyper.use_rslora;
  j["init_lora_weights"] = init_lora_weights;
  j["revision"] = nullptr;
  j["layers_to_transform"] = nullptr;
  j["layers_pattern"] = nullptr;
  j["rank_pattern"] = nlohmann::json::object();
  j["alpha_pattern"] = nlohmann::json::object();
  return j;
}

LoraConfig LoraConfig::from_json(const nlohmann::json& j, const std::string& origin) {
  ACCENT_CHECK(j.is_object(), origin, ": adapter config is not a JSON object");
  LoraConfig c;
  try {
    // PEFT refuses an adapter_config.json without peft_type (PeftConfig.from_pretrained needs it to pick the class).
    ACCENT_CHECK(j.contains("peft_type") && j["peft_type"].is_string(), origin,
                 ": key \"peft_type\" is missing or not a string (expected \"LORA\")");
    const std::string type = j["peft_type"].get<std::string>();
    ACCENT_CHECK(type == "LORA", origin, ": peft_type ", type, " is not supported (only LORA)");
    if (j.contains("task_type") && !j["task_type"].is_null()) {
      ACCENT_CHECK(j["task_type"].is_string(), origin, ": key \"task_type\" is not a string");
      c.task_type = j["task_type"].get<std::string>();
      task_of_peft_task_type(c.task_type, origin);  // SEQ_CLS, TOKEN_CLS or QUESTION_ANS
    }
    ACCENT_CHECK(j.contains("r"), origin, ": key \"r\" (the LoRA rank) is missing");
    c.hyper.r = json_integer(j["r"], origin + ": key \"r\"", 1, kMaxLoraRank);
    if (j.contains("lora_alpha")) c.hyper.alpha = json_number(j["lora_alpha"], origin + ": key \"lora_alpha\"");
    if (j.contains("lora_dropout")) c.hyper.dropout = json_number(j["lora_dropout"], origin + ": key \"lora_dropout\"");
    c.hyper.use_rslora = j.value("use_rslora", false);
    ACCENT_CHECK(j.contains("target_modules"), origin, ": key \"target_modules\" is missing");
    const auto& t = j["target_modules"];
    if (t.is_string()) c.target_modules = {t.get<std::string>()};
    else c.target_modules = t.get<std::vector<std::string>>();
    std::sort(c.target_modules.begin(), c.target_modules.end());
    c.bias = j.value("bias", std::string("none"));
    if (j.contains("modules_to_save") && !j["modules_to_save"].is_null())
      c.modules_to_save = j["modules_to_save"].get<std::vector<std::string>>();
    else
      c.modules_to_save.clear();
    if (j.contains("base_model_name_or_path") && !j["base_model_name_or_path"].is_null())
      c.base_model_name_or_path = j["base_model_name_or_path"].get<std::string>();
    c.fan_in_fan_out = j.value("fan_in_fan_out", false);
    if (j.contains("init_lora_weights") && j["init_lora_weights"].is_boolean())
      c.init_lora_weights = j["init_lora_weights"].get<bool>();
    for (const char* pattern : {"rank_pattern", "alpha_pattern"})
      ACCENT_CHECK(!j.contains(pattern) || j[pattern].is_null() || j[pattern].empty(), origin, ": ", pattern,
                   " (per-module ranks) is not supported");
    for (const char* key : {"layers_to_transform", "use_dora"})
      ACCENT_CHECK(!j.contains(key) || j[key].is_null() || j[key] == false, origin, ": ", key, " is not supported");
  } catch (const nlohmann::json::exception& e) {
    fail(origin, ": malformed adapter config (", e.what(), ")");
  }
  c.validate();
  return c;
}

std::vector<std::string> default_lora_target_modules(const std::string& model_type) {
  if (model_type == "bert" || model_type == "roberta" || model_type == "electra" || model_type == "xlm-roberta")
    return {"query", "value"};
  if (model_type == "gpt2") return {"c_attn"};
  if (model_type == "distilbert") return {"q_lin", "v_lin"};
  if (model_type == "qwen2" || model_type == "llama") return {"q_proj", "v_proj"};
  if (model_type == "deberta-v2") return {"query_proj", "value_proj"};
  fail("no default LoRA target modules for model type '", model_type, "'; pass --lora-target-modules");
}

AdapterLabels adapter_labels_from_json(const nlohmann::json& j, const std::string& origin) {
  ACCENT_CHECK(j.is_object(), origin, ": expected a JSON object with id2label and problem_type");
  AdapterLabels labels;
  const auto id2label = j.find("id2label");
  ACCENT_CHECK(id2label != j.end() && id2label->is_object(), origin, ": key \"id2label\" is missing or not an object");
  for (size_t i = 0; i < id2label->size(); ++i) {
    const auto name = id2label->find(std::to_string(i));
    ACCENT_CHECK(name != id2label->end() && name->is_string(), origin, ": id2label has no string label for id ", i,
                 " (ids must be 0..", id2label->size() - 1, ")");
    labels.id2label.push_back(name->get<std::string>());
  }
  const auto problem = j.find("problem_type");
  if (problem != j.end() && !problem->is_null()) {
    ACCENT_CHECK(problem->is_string(), origin, ": key \"problem_type\" is not a string");
    const std::string p = problem->get<std::string>();
    ACCENT_CHECK(p == "single_label_classification" || p == "multi_label_classification" || p == "regression", origin,
                 ": problem_type '", p, "' (expected single_label_classification, multi_label_classification or "
                 "regression)");
    labels.problem_type = p;
  }
  return labels;
}

}  // namespace accent
