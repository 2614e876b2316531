// train/checkpoint.h — training checkpoints: output_dir/checkpoint-<step>/, written atomically, and resume.
//
// A checkpoint directory holds (HF's Trainer layout, with accent's formats for the non-model state):
//   model.safetensors       the parameters under their HF names
//   config.json             when the model has one (SequenceClassifier::config()): with it the checkpoint is a
//                           Hugging Face model directory; the caller's save hook adds tokenizer files
//   optimizer.safetensors   AdamW exp_avg / exp_avg_sq per trainable parameter ("<name>.exp_avg"); metadata
//                           {"format":"pt","step":"<optimizer steps>"}
//   scheduler.json          {"lr_scheduler_type", "base_lr", "warmup_steps", "total_steps", "last_step"}
//   trainer_resume.json     everything else resuming needs to continue bit for bit: dropout RNG (seed,
//                           counter), data position (epoch, micro-batches done in it), loss accumulators
//   trainer_state.json      HF's TrainerState (log_history, best_metric, best_model_checkpoint, global_step ...)
//   training_args.json      the run's TrainingArguments
// The directory is filled under output_dir/tmp-checkpoint-<step>/ and renamed into place, so a crash never leaves
// a half-written checkpoint-<step>.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "models/classifier.h"
#include "train/checkpoint_json.h"
#include "train/adamw.h"
#include "train/lr_schedule.h"
#include "train/training_args.h"

namespace accent {

// Writes model.safetensors from the model's parameters (HF names, F32) to `path`, atomically.
void save_model_weights(SequenceClassifier& model, const std::string& path);
// Loads every parameter by name from a safetensors file or checkpoint directory; shapes must match.
void load_model_weights(SequenceClassifier& model, const std::string& path_or_dir);

struct CheckpointContents {
  const TrainingArguments* args;
  const LrSchedule* schedule;
  const AdamW* optimizer;
  const ResumeState* resume;
  const nlohmann::json* trainer_state;
};

// Writes output_dir/checkpoint-<step>/ atomically (replacing an existing one of the same step). `extra_files`,
// if set, is called with the temporary directory to add files (config.json, tokenizer) before the rename.
// Returns the final directory path.
std::string save_checkpoint(SequenceClassifier& model, const std::string& output_dir, int64_t step,
                            const CheckpointContents& contents,
                            const std::function<void(const std::string&)>& extra_files = {});

struct LoadedCheckpoint {
  std::string dir;
  ResumeState resume;
  nlohmann::json trainer_state;
  nlohmann::json scheduler;
};
// Restores weights and optimizer state from `dir` into model/optimizer and returns the rest.
LoadedCheckpoint load_checkpoint(const std::string& dir, SequenceClassifier& model, AdamW& optimizer);

// checkpoint-<step> directories in output_dir, sorted by step (ascending). Temporary directories are ignored.
std::vector<std::pair<int64_t, std::string>> list_checkpoints(const std::string& output_dir);
// The newest checkpoint, or nullopt.
std::optional<std::string> latest_checkpoint(const std::string& output_dir);
// Deletes the oldest checkpoints so that at most `limit` remain, never deleting `keep` (the best checkpoint);
// like HF, a limit of 1 keeps 2 when the best is not the newest. Returns the deleted paths.
std::vector<std::string> rotate_checkpoints(const std::string& output_dir, int64_t limit, const std::string& keep);
// Removes leftover tmp-checkpoint-* directories of an interrupted save.
void remove_partial_checkpoints(const std::string& output_dir);

}  // namespace accent
