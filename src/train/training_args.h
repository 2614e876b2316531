// train/training_args.h — the knobs of a training run, named and defaulted like transformers.TrainingArguments.
//
// Differences from HF, on purpose: logging_steps defaults to 50 (HF: 500 — too sparse for the small datasets
// people fine-tune on a CPU); early_stopping_patience / early_stopping_threshold live here instead of in an
// EarlyStoppingCallback; `progress`, `events_jsonl` and `report_to` (html | none) are accent's output options. Fields HF accepts as a
// ratio (logging_steps, eval_steps, save_steps < 1) mean ceil(ratio · max_steps) as in HF.
#pragma once
#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace accent {

struct TrainingArguments {
  std::string output_dir = "trainer_output";
  double learning_rate = 5e-5;
  double num_train_epochs = 3.0;
  int64_t per_device_train_batch_size = 8;
  int64_t per_device_eval_batch_size = 8;
  int64_t warmup_steps = 0;
  double warmup_ratio = 0.0;
  double weight_decay = 0.0;
  double max_grad_norm = 1.0;  // <= 0 disables clipping
  int64_t seed = 42;
  int64_t max_steps = -1;  // > 0 overrides num_train_epochs
  int64_t gradient_accumulation_steps = 1;
  std::string lr_scheduler_type = "linear";  // linear | cosine | constant | constant_with_warmup
  double adam_beta1 = 0.9;
  double adam_beta2 = 0.999;
  double adam_epsilon = 1e-8;

  std::string logging_strategy = "steps";  // no | steps | epoch
  double logging_steps = 50;               // accent default (HF: 500)
  bool logging_first_step = false;
  std::string eval_strategy = "no";  // no | steps | epoch
  std::optional<double> eval_steps;  // unset → logging_steps (HF)
  std::string save_strategy = "steps";  // no | steps | epoch
  double save_steps = 500;
  std::optional<int64_t> save_total_limit;  // keep the newest N checkpoints (plus the best one)

  std::optional<std::string> metric_for_best_model;  // e.g. "accuracy" or "eval_f1"; "loss" when load_best… is set
  std::optional<bool> greater_is_better;             // unset → false for *loss, true otherwise (HF)
  bool load_best_model_at_end = false;
  std::optional<int64_t> early_stopping_patience;  // evaluations without improvement before stopping
  double early_stopping_threshold = 0.0;

  // Path of a checkpoint-<step> directory, or "latest" for the newest one in output_dir.
  std::optional<std::string> resume_from_checkpoint;
  // HF's switch: train into a non-empty output_dir, replacing the earlier run (train/run_identity.h).
  bool overwrite_output_dir = false;

  // Data-parallel training (several processes under `accent launch` or torchrun; train/data_parallel.h).
  int64_t ddp_timeout = 300;                   // seconds a collective may wait for the other ranks (HF: 1800)
  std::optional<int64_t> ddp_bucket_cap_mb;    // gradient bucket size in MB; unset = 25 (DDP's default)
  bool ddp_bf16_compress = false;              // all-reduce gradients in bf16 (half the bytes; DDP's bf16 hook)

  // accent output options.
  bool disable_tqdm = false;         // HF's switch: no progress bar even on a terminal
  std::string progress = "auto";     // auto (bar on a terminal, plain lines otherwise) | bar | plain | none
  std::string events_jsonl;          // "" = off; "-" = stdout; else a file path: one JSON object per event
  // HF's report_to, a comma-separated list: "html" (accent's default) writes report.html in output_dir
  // (train/training_report.h), "tensorboard" writes TensorBoard event files into logging_dir
  // (train/tensorboard_writer.h); "all" = both; "none" writes nothing.
  std::string report_to = "html";
  // HF's logging_dir: where TensorBoard event files go; "" = output_dir/runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname>.
  std::string logging_dir;
  // Whether report_to names `integration` ("html" or "tensorboard"), directly or through "all".
  bool reports_to(const std::string& integration) const;

  // Checks values and HF's cross-field rules (load_best_model_at_end needs matching eval/save strategies,
  // save_steps a multiple of eval_steps, a metric when early stopping ...). Throws naming the field.
  void validate() const;

  // Effective metric name with the "eval_" prefix, and its direction (HF's defaults when unset).
  std::optional<std::string> best_metric_key() const;
  bool best_metric_greater_is_better() const;
};

// Throws unless `report_to` is a comma-separated list of html, tensorboard, all, or none alone (TrainingArguments
// validate() calls it; the CLI checks the flag with it).
void check_report_to(const std::string& report_to);

nlohmann::json to_json(const TrainingArguments& args);
// Unknown keys are an error (naming the key and `origin`); missing keys keep their defaults.
// "evaluation_strategy" (older HF name) is accepted for eval_strategy.
TrainingArguments training_args_from_json(const nlohmann::json& j, const std::string& origin);
// training_args.json: to_json dumped with 2-space indent, atomically.
void save_training_args(const std::string& path, const TrainingArguments& args);
TrainingArguments load_training_args(const std::string& path);

}  // namespace accent
