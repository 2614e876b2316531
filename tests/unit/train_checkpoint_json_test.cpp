// The JSON files a checkpoint is resumed from, hostile (issue 19): each bad value is an accent::Error naming the
// file and key — not a nlohmann exception, a wrapped integer, or undefined behaviour (a float 1e300 cast to a step).
#include <gtest/gtest.h>

#include "core/json_parse.h"
#include "error_text.h"
#include "train/checkpoint_json.h"

namespace accent {
namespace {

using testing::error_of;

nlohmann::json j(const std::string& text) { return parse_json(text, "test"); }

const char* kResume = R"({"dropout_rng": {"seed": 42, "counter": 7}, "epoch": 1, "batch_in_epoch": 3,
                          "loss_since_log": 0.5, "steps_since_log": 2, "train_loss_sum": 1.5})";

TEST(CheckpointJson, ResumeStateRoundTripsAndRefusesBadValues) {
  const ResumeState r = resume_from_json(j(kResume), "c/trainer_resume.json");
  EXPECT_EQ(r.dropout_seed, 42u);
  EXPECT_EQ(r.batch_in_epoch, 3);
  EXPECT_EQ(resume_to_json(resume_from_json(resume_to_json(r), "x")), resume_to_json(r));
  auto with = [](const char* key, const nlohmann::json& v) {
    nlohmann::json x = j(kResume);
    x[key] = v;
    return x;
  };
  EXPECT_EQ(error_of([&] { resume_from_json(with("epoch", 1e300), "c/trainer_resume.json"); }),
            "c/trainer_resume.json: key \"epoch\": expected an integer in [0, 1000000000000000], got 1e+300");
  EXPECT_EQ(error_of([&] { resume_from_json(with("batch_in_epoch", -1), "c/trainer_resume.json"); }),
            "c/trainer_resume.json: key \"batch_in_epoch\": expected an integer in [0, 1000000000000000], got -1");
  EXPECT_EQ(error_of([&] { resume_from_json(with("dropout_rng", {{"seed", -5}, {"counter", 0}}), "r.json"); }),
            "r.json: key \"dropout_rng.seed\": expected an unsigned integer, got -5");
  EXPECT_EQ(error_of([&] { resume_from_json(with("dropout_rng", 3), "r.json"); }),
            "r.json: dropout_rng: expected a JSON object holding \"seed\", got number");
  EXPECT_EQ(error_of([&] { resume_from_json(j("[]"), "r.json"); }),
            "r.json: expected a JSON object holding \"dropout_rng\", got array");
}

TEST(CheckpointJson, TrainerStateRefusesBadValues) {
  const std::string ok = R"({"global_step": 6, "epoch": 1.5, "log_history": [], "best_metric": null,
      "best_model_checkpoint": null, "stateful_callbacks": {"TrainerControl": {"args": {"should_training_stop": true}},
      "EarlyStoppingCallback": {"attributes": {"early_stopping_patience_counter": 2}}}})";
  const SavedTrainerState s = trainer_state_from_json(j(ok), "c/trainer_state.json");
  EXPECT_EQ(s.global_step, 6);
  EXPECT_TRUE(s.should_training_stop);
  EXPECT_EQ(s.patience_counter, 2);
  EXPECT_EQ(error_of([] { trainer_state_from_json(j(R"({"global_step": 1e300})"), "t.json"); }),
            "t.json: key \"global_step\": expected an integer in [0, 1000000000000000], got 1e+300");
  EXPECT_EQ(error_of([] { trainer_state_from_json(j(R"({"global_step": 1, "epoch": 0})"), "t.json"); }),
            "t.json: key \"log_history\" is missing");
  // Used to read a missing key from a const object (undefined behaviour in nlohmann).
  EXPECT_EQ(error_of([] {
              trainer_state_from_json(j(R"({"global_step": 1, "epoch": 0, "log_history": [], "best_metric": null,
                  "best_model_checkpoint": null, "stateful_callbacks": {"TrainerControl": {}}})"),
                                      "t.json");
            }),
            "t.json: stateful_callbacks.TrainerControl: key \"args\" is missing");
  EXPECT_EQ(error_of([] { scheduler_total_steps(j(R"({"total_steps": "8"})"), "s.json"); }),
            "s.json: key \"total_steps\": expected an integer in [0, 1000000000000000], got \"8\"");
  EXPECT_EQ(scheduler_total_steps(j(R"({"total_steps": 8})"), "s.json"), 8);
  EXPECT_EQ(scheduler_total_steps(j(R"({})"), "s.json"), std::nullopt);
}

TEST(CheckpointJson, NamesAndStepsOutOfRange) {
  EXPECT_EQ(checkpoint_step("checkpoint-12"), 12);
  EXPECT_EQ(checkpoint_step("checkpoint-99999999999999999999"), std::nullopt);  // used to throw std::out_of_range
  EXPECT_EQ(checkpoint_step("checkpoint-1a"), std::nullopt);
  EXPECT_EQ(checkpoint_step("tmp-checkpoint-1"), std::nullopt);
  EXPECT_EQ(optimizer_step_from_metadata("40", "o.safetensors"), 40);
  EXPECT_EQ(error_of([] { optimizer_step_from_metadata("12345678901234567890", "o.safetensors"); }),
            "o.safetensors: metadata \"step\" must be a step count (decimal digits), got \"12345678901234567890\"");
  EXPECT_EQ(error_of([] { optimizer_step_from_metadata("-3", "o.safetensors"); }),
            "o.safetensors: metadata \"step\" must be a step count (decimal digits), got \"-3\"");
}

}  // namespace
}  // namespace accent
