// adapter_config.json and accent_labels.json, hostile (issue 19): a rank of 2^40 or 1e300, a missing key, a label
// file with holes — each an accent::Error naming the file and key, never a huge allocation, undefined behaviour or a
// nlohmann exception escaping as "unexpected error".
#include <gtest/gtest.h>

#include "core/json_parse.h"
#include "error_text.h"
#include "models/lora_config.h"

namespace accent {
namespace {

using testing::error_of;

nlohmann::json peft_config() {
  return parse_json(R"({"peft_type": "LORA", "task_type": "SEQ_CLS", "r": 8, "lora_alpha": 16, "lora_dropout": 0.1,
                        "target_modules": ["query", "value"], "bias": "none"})",
                    "test");
}

TEST(LoraConfigJson, ReadsPeftFilesAndRoundTrips) {
  const LoraConfig c = LoraConfig::from_json(peft_config(), "a/adapter_config.json");
  EXPECT_EQ(c.hyper.r, 8);
  EXPECT_EQ(c.hyper.alpha, 16);
  EXPECT_EQ(LoraConfig::from_json(c.to_json(), "x").to_json(), c.to_json());
}

// PEFT's task types for the three heads, and the modules PeftModelFor<Task> trains in full.
TEST(LoraConfigJson, TaskTypesOfTheHeads) {
  for (const char* type : {"SEQ_CLS", "TOKEN_CLS", "QUESTION_ANS"}) {
    nlohmann::json j = peft_config();
    j["task_type"] = type;
    const LoraConfig c = LoraConfig::from_json(j, "a/adapter_config.json");
    EXPECT_EQ(c.task_type, type);
    EXPECT_EQ(c.to_json()["task_type"], type);
    EXPECT_EQ(peft_task_type(task_of_peft_task_type(type, "x")), std::string(type));
  }
  EXPECT_EQ(default_modules_to_save(ModelTask::TokenClassification), (std::vector<std::string>{"classifier", "score"}));
  EXPECT_EQ(default_modules_to_save(ModelTask::QuestionAnswering), (std::vector<std::string>{"qa_outputs"}));
  nlohmann::json j = peft_config();
  j["task_type"] = "CAUSAL_LM";
  EXPECT_EQ(error_of([&] { LoraConfig::from_json(j, "a/adapter_config.json"); }),
            "a/adapter_config.json: task_type CAUSAL_LM is not supported (SEQ_CLS, TOKEN_CLS or QUESTION_ANS)");
}

TEST(LoraConfigJson, BadValuesAreNamedErrors) {
  auto with = [](const char* key, const nlohmann::json& v) {
    nlohmann::json j = peft_config();
    if (v.is_discarded()) j.erase(key);
    else j[key] = v;
    return error_of([&] { LoraConfig::from_json(j, "a/adapter_config.json"); });
  };
  EXPECT_EQ(with("r", int64_t{1} << 40),
            "a/adapter_config.json: key \"r\": expected an integer in [1, 65536], got 1099511627776");
  EXPECT_EQ(with("r", 1e300), "a/adapter_config.json: key \"r\": expected an integer in [1, 65536], got 1e+300");
  EXPECT_EQ(with("r", nlohmann::json(nlohmann::json::value_t::discarded)),
            "a/adapter_config.json: key \"r\" (the LoRA rank) is missing");
  EXPECT_EQ(with("lora_alpha", "16"), "a/adapter_config.json: key \"lora_alpha\": expected a number, got \"16\"");
  EXPECT_EQ(with("target_modules", nlohmann::json(nlohmann::json::value_t::discarded)),
            "a/adapter_config.json: key \"target_modules\" is missing");
  EXPECT_EQ(error_of([] { LoraConfig::from_json(parse_json("[]", "t"), "a/adapter_config.json"); }),
            "a/adapter_config.json: adapter config is not a JSON object");
}

TEST(LoraConfigJson, AdapterLabelsAreChecked) {
  const AdapterLabels ok = adapter_labels_from_json(
      parse_json(R"({"id2label": {"1": "pos", "0": "neg"}, "problem_type": null})", "t"), "a/accent_labels.json");
  EXPECT_EQ(ok.id2label, (std::vector<std::string>{"neg", "pos"}));
  EXPECT_EQ(error_of([] {
              adapter_labels_from_json(parse_json(R"({"id2label": {"0": "neg", "2": "pos"}})", "t"), "l.json");
            }),
            "l.json: id2label has no string label for id 1 (ids must be 0..1)");
  EXPECT_EQ(error_of([] { adapter_labels_from_json(parse_json(R"({"labels": []})", "t"), "l.json"); }),
            "l.json: key \"id2label\" is missing or not an object");
  EXPECT_EQ(error_of([] {
              adapter_labels_from_json(parse_json(R"({"id2label": {}, "problem_type": "ranking"})", "t"), "l.json");
            }),
            "l.json: problem_type 'ranking' (expected single_label_classification, multi_label_classification or "
            "regression)");
}

}  // namespace
}  // namespace accent
