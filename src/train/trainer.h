// train/trainer.h — fine-tuning and evaluation of a SequenceClassifier, like transformers.Trainer.
//
// One optimizer step = gradient_accumulation_steps micro-batches (loss scaled by 1/accum, as HF), then global-norm
// clipping (max_grad_norm), AdamW at the schedule's learning rate, zeroed gradients. As in HF (≥ 4.46) an epoch's
// leftover micro-batches (num_batches % accum) still make one last step; the schedule length is
//   max_steps > 0 ? max_steps : ceil(num_train_epochs · max(num_batches / accum, 1))
// and training stops when global_step reaches it (so with leftovers the last epoch can end early, as in HF).
// After each step: log (every logging_steps), evaluate (eval_strategy steps), save (save_steps, and at the last
// step); at each epoch end: evaluate / save for the epoch strategies. Evaluation updates the best metric and the
// early-stopping patience; a save after a new best becomes best_model_checkpoint.
//
// Typical caller (the `accent train` verb):
//   TrainResult r = train(model, args, train_source, &eval_source, callbacks);
//   save_pretrained(model, args.output_dir);  // models/registry.h: config.json + model.safetensors
//   (tokenizer files next to it) — train() writes only trainer_state.json and training_args.json to output_dir,
//   like HF's Trainer, which leaves the final save_model() to the caller.
// callbacks.save_extra_files should write config.json (and the tokenizer) into every checkpoint so that each
// checkpoint-<step>/ is itself a loadable Hugging Face model directory.
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "models/classifier.h"
#include "train/batch_source.h"
#include "train/data_parallel.h"
#include "train/training_args.h"

namespace accent {

struct EvalResult {
  double loss = 0;            // mean loss over examples (batch losses weighted by batch size, as HF)
  bool has_loss = false;
  int64_t num_examples = 0;
  nlohmann::json metrics;     // "<prefix>_loss", "<prefix>_accuracy", ... "<prefix>_runtime", ..._per_second
  nlohmann::json report;      // per-class scores and confusion matrix (MetricAccumulator::report)
};

struct TrainCallbacks {
  // After every optimizer step, once its log/evaluation/save are done. May throw to abort the run.
  std::function<void(int64_t global_step)> on_step_end;
  // Every log_history entry as it is appended (training logs, evaluations, the final summary).
  std::function<void(const nlohmann::json& entry)> on_log;
  // Evaluation other than running the eval BatchSource's batches (question answering: post-processing over
  // examples, like run_qa.py's QuestionAnsweringTrainer); given the metric prefix. Used instead of eval_data.
  std::function<EvalResult(const std::string& prefix)> evaluate;
  // Adds files (config.json, tokenizer) to a checkpoint directory before it is moved into place.
  std::function<void(const std::string& checkpoint_dir)> save_extra_files;
  // When set, train() does not write trainer_state.json / training_args.json into output_dir at the end: the
  // caller saves them with the model as one atomic set (io/model_dir_save.h), as `accent train` does.
  bool caller_saves_final_state = false;
};


// Runs the model in inference mode over every batch of epoch 0 of `data`. With a data-parallel group (W > 1 ranks,
// all calling with the same data), rank r runs batches r, r+W, …; the logits and losses are gathered and every
// rank computes the metrics over all batches in order: exactly the single-process numbers, no row twice or lost.
EvalResult evaluate(SequenceClassifier& model, BatchSource& data, const std::string& metric_key_prefix = "eval",
                    ProcessGroup* group = nullptr);

struct TrainResult {
  int64_t global_step = 0;
  double training_loss = 0;  // mean loss per optimizer step over the run (HF TrainOutput.training_loss)
  nlohmann::json metrics;    // train_runtime, train_samples_per_second, train_steps_per_second, train_loss, epoch
  nlohmann::json state;      // the final trainer_state.json object
  std::optional<double> best_metric;
  std::string best_model_checkpoint;  // "" when none
  std::string last_checkpoint;        // "" when none was saved
  bool early_stopped = false;
  bool loaded_best_model = false;  // load_best_model_at_end restored the best checkpoint's weights
};

// Trains `model` in place. `eval_data` is required when eval_strategy != "no". Throws accent::Error on bad
// arguments, on a non-finite loss or gradient norm (naming the step and the last good checkpoint), or on I/O
// failures. With args.resume_from_checkpoint, continues from that checkpoint: weights, optimizer, schedule,
// dropout RNG and data position are restored, so the end result is bit-identical to an uninterrupted run.
// Data-parallel (dp.active()): `train_data` is this rank's shard (train/sharded_train_source.h), and see
// train/data_parallel.h for what else changes.
TrainResult train(SequenceClassifier& model, const TrainingArguments& args, BatchSource& train_data,
                  BatchSource* eval_data, const TrainCallbacks& callbacks = {}, const DataParallel& dp = {});

// Schedule length for `num_batches` batches per epoch (see the top of this file).
struct TrainingPlan {
  int64_t updates_per_epoch = 0;  // max(num_batches / accum, 1)
  int64_t max_steps = 0;
  int64_t num_epochs = 0;  // epochs the loop may enter
};
TrainingPlan plan_training(const TrainingArguments& args, size_t num_batches);

}  // namespace accent
