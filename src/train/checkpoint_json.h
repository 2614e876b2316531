// train/checkpoint_json.h — the JSON files of a training checkpoint (train/checkpoint.h), read back checked.
//
// A checkpoint directory may come from anywhere (a copied run, a hand-edited file): each reader here turns its
// file into typed values or an accent::Error naming the file and key — never a nlohmann exception, a wrapped
// integer or undefined behaviour (a float 1e300 where a step count belongs). Kept free of model code so that
// fuzz/checkpoint_files_fuzz.cpp can run them on their own.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace accent {

// Steps, epochs and counters above this are refused: no run takes 10^15 steps, and sums stay far from overflow.
constexpr int64_t kMaxCheckpointCount = 1'000'000'000'000'000;

// The resumable position and accumulators of a run (trainer_resume.json).
struct ResumeState {
  uint64_t dropout_seed = 0, dropout_counter = 0;
  int64_t epoch = 0;             // epoch to continue in
  int64_t batch_in_epoch = 0;    // micro-batches of that epoch already consumed
  double loss_since_log = 0.0;   // Σ loss/accum since the last "loss" log entry
  int64_t steps_since_log = 0;
  double train_loss_sum = 0.0;   // Σ loss/accum over the whole run (train_loss = sum / global_step)
};
nlohmann::json resume_to_json(const ResumeState& r);
ResumeState resume_from_json(const nlohmann::json& j, const std::string& origin);

// What resuming takes back from trainer_state.json (HF's TrainerState as the trainer writes it).
struct SavedTrainerState {
  int64_t global_step = 0;
  double epoch = 0;
  nlohmann::json log_history = nlohmann::json::array();
  std::optional<double> best_metric;
  std::optional<int64_t> best_global_step;
  std::string best_model_checkpoint;  // "" when none
  bool should_training_stop = false;  // stateful_callbacks.TrainerControl.args
  int64_t patience_counter = 0;       // stateful_callbacks.EarlyStoppingCallback.attributes
};
SavedTrainerState trainer_state_from_json(const nlohmann::json& j, const std::string& origin);

// scheduler.json's total_steps, or nullopt when the file does not say.
std::optional<int64_t> scheduler_total_steps(const nlohmann::json& j, const std::string& origin);

// "checkpoint-<step>" → step; nullopt for any other name (also for more than 18 digits: not a name accent writes).
std::optional<int64_t> checkpoint_step(const std::string& name);
// optimizer.safetensors' metadata "step" (decimal digits) → the optimizer's step count.
int64_t optimizer_step_from_metadata(const std::string& text, const std::string& origin);

}  // namespace accent
