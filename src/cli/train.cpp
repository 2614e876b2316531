// cli/train.cpp — `accent train`: fine-tune a model on a labelled file (flags mirror HF TrainingArguments).
#include <cstdlib>
#include <iostream>
#include <streambuf>

#include "cli/data_options.h"
#include "cli/flag_checks.h"
#include "cli/verb.h"
#include "dist/distributed_env.h"
#include "train/finetune.h"

namespace accent::cli {
namespace {

struct TrainOptions {
  ModelArguments model;
  DataArguments data;
  TrainingArguments args;
  bool json = false;
  std::string resume;
  std::string metric;
  int64_t patience = 0;
  bool greater_is_better = false, lower_is_better = false;
  bool lora = false;
  LoraConfig lora_config;
  std::vector<std::string> lora_targets;
  std::optional<int64_t> max_length;  // --max-length; default 384 for question answering (run_qa.py), else 128
};

// Data-parallel ranks other than 0 keep quiet (rank 0 says it all once) unless ACCENT_LOG_ALL_RANKS is set; an
// error still reaches stderr, as the guard gives std::cerr back while the exception leaves run_train.
class QuietStderr {
 public:
  explicit QuietStderr(bool quiet) : previous_(quiet ? std::cerr.rdbuf(&discard_) : nullptr) {}
  ~QuietStderr() {
    if (previous_) std::cerr.rdbuf(previous_);
  }
  QuietStderr(const QuietStderr&) = delete;
  QuietStderr& operator=(const QuietStderr&) = delete;

 private:
  struct Discard : std::streambuf {
    int overflow(int c) override { return traits_type::not_eof(c); }
  } discard_;
  std::streambuf* previous_;
};

int run_train(TrainOptions& o) {
  const std::optional<DistributedEnv> dist = distributed_env_from_environment();
  const bool other_rank = dist && dist->world_size > 1 && dist->rank != 0;
  QuietStderr quiet(other_rank && std::getenv("ACCENT_LOG_ALL_RANKS") == nullptr);
  const ModelTask task = o.model.task.value_or(detect_task(o.data.train_file));
  o.data.max_length = o.max_length.value_or(task == ModelTask::QuestionAnswering ? 384 : 128);
  if (!o.resume.empty()) o.args.resume_from_checkpoint = o.resume;
  if (!o.metric.empty()) o.args.metric_for_best_model = o.metric;
  if (o.patience > 0) o.args.early_stopping_patience = o.patience;
  if (o.greater_is_better) o.args.greater_is_better = true;
  if (o.lower_is_better) o.args.greater_is_better = false;
  if (o.lora) {
    // One value may hold a comma list ("query,value"), as PEFT's CLI examples pass it.
    for (const std::string& t : o.lora_targets) {
      size_t start = 0;
      while (start <= t.size()) {
        const size_t comma = std::min(t.find(',', start), t.size());
        if (comma > start) o.lora_config.target_modules.push_back(t.substr(start, comma - start));
        start = comma + 1;
      }
    }
    o.lora_config.validate();
    o.model.lora = o.lora_config;
  }
  FinetuneResult r = run_finetune(o.model, o.data, o.args);
  nlohmann::json out = r.train.metrics;
  if (r.eval) {
    for (auto& [k, v] : r.eval->metrics.items()) out[k] = v;
    out["eval_report"] = r.eval->report;
  }
  if (other_rank) return 0;  // rank 0 reports the run
  out["output_dir"] = r.output_dir;
  if (!r.train.best_model_checkpoint.empty()) out["best_model_checkpoint"] = r.train.best_model_checkpoint;
  if (o.json) {
    std::cout << out.dump() << "\n";
  } else {
    std::cout << "saved model to " << r.output_dir << "\n";
    if (r.eval) std::cout << "validation: " << r.eval->metrics.dump() << "\n";
  }
  return 0;
}

VerbRegistration reg{"train", "Fine-tune a model on a labelled CSV/TSV/JSONL file and save it (HF layout)",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<TrainOptions>();
    auto& a = o->args;
    app.add_option("--model,-m,--model-name-or-path", o->model.model, "Model directory or Hugging Face hub id")->required();
    app.add_option("--revision", o->model.revision, "Hub revision")->capture_default_str();
    app.add_flag("--offline", o->model.offline, "Use only the Hugging Face cache (also HF_HUB_OFFLINE=1)");
    app.add_option("--train-file,-t", o->data.train_file, "Training data (.csv, .tsv, .txt, .jsonl)")->required()->check(CLI::ExistingFile);
    app.add_option("--validation-file,-v", o->data.validation_file, "Validation data (default: split off the training file)")->check(CLI::ExistingFile);
    app.add_option("--validation-split", o->data.validation_split, "Fraction held out when no validation file is given (0 = none)")->capture_default_str()->check(fraction_below_one());
    app.add_flag("--stratify", o->data.stratify, "Stratified validation split");
    add_read_options(app, o->data.read);
    app.add_option("--max-length,--max-seq-length", o->max_length, "Truncate inputs to this many tokens (default 128; 384 for question answering)");
    app.add_flag("--pad-to-max-length", o->data.pad_to_max_length, "Pad every batch to --max-length (default: dynamic padding)");
    app.add_option("--pad-to-multiple-of", o->data.pad_to_multiple_of, "Round padded lengths up to a multiple of this");
    app.add_flag("--group-by-length", o->data.group_by_length, "Batch examples of similar length (less padding)");
    app.add_flag("--ignore-mismatched-sizes", o->model.ignore_mismatched_sizes, "Re-initialise checkpoint tensors whose shape differs (e.g. a head with another num_labels)");
    app.add_option_function<std::string>("--task", [o](const std::string& v) { o->model.task = accent::task_from_name(v); },
                                         "text-classification | token-classification | question-answering (default: from the training "
                                         "file: CoNLL or JSONL tokens+ner_tags, SQuAD JSON, else text classification)");
    app.add_option("--doc-stride", o->data.doc_stride, "Question answering: tokens shared by consecutive windows of a long context")->capture_default_str();
    app.add_flag("--label-all-tokens", o->data.label_all_tokens, "Token classification: label every sub-token of a word, not just the first");
    app.add_option("--problem-type", o->model.problem_type, "single_label_classification|multi_label_classification|regression (default: from the labels)");
    app.add_flag("--lora", o->lora, "Train a LoRA adapter (PEFT layout) instead of the whole model");
    app.add_option("--lora-r", o->lora_config.hyper.r, "LoRA rank")->capture_default_str();
    app.add_option("--lora-alpha", o->lora_config.hyper.alpha, "LoRA alpha (scale = alpha / r)")->capture_default_str();
    app.add_option("--lora-dropout", o->lora_config.hyper.dropout, "Dropout on the LoRA branch input")->capture_default_str();
    app.add_option("--lora-target-modules", o->lora_targets, "Modules to adapt, e.g. query,value (default: PEFT's for the model type) or all-linear");
    app.add_option("--lora-bias", o->lora_config.bias, "none|all|lora_only: which biases train")->capture_default_str();
    app.add_flag("--use-rslora", o->lora_config.hyper.use_rslora, "rsLoRA scale alpha / sqrt(r)");
    app.add_flag("--freeze-embeddings", o->model.freeze.embeddings, "Do not train the embeddings");
    app.add_option("--freeze-layers", o->model.freeze.layers, "Do not train the bottom N encoder layers")->check(integer_in(0, 100000));
    app.add_option("--output-dir,-o", a.output_dir, "Where the model, checkpoints and metrics go")->required();
    app.add_flag("--overwrite-output-dir", a.overwrite_output_dir, "Train into a non-empty --output-dir, replacing the earlier run's model and checkpoints");
    app.add_option("--learning-rate,--lr", a.learning_rate, "Peak learning rate (AdamW)")->capture_default_str();
    app.add_option("--num-train-epochs,--epochs", a.num_train_epochs, "Epochs")->capture_default_str();
    app.add_option("--per-device-train-batch-size,--batch-size,-b", a.per_device_train_batch_size, "Training batch size")->capture_default_str();
    app.add_option("--per-device-eval-batch-size", a.per_device_eval_batch_size, "Evaluation batch size")->capture_default_str();
    app.add_option("--warmup-steps", a.warmup_steps, "Linear warmup steps")->capture_default_str();
    app.add_option("--warmup-ratio", a.warmup_ratio, "Warmup as a fraction of all steps")->capture_default_str();
    app.add_option("--weight-decay", a.weight_decay, "AdamW decoupled weight decay (not on biases/LayerNorm)")->capture_default_str();
    app.add_option("--max-grad-norm", a.max_grad_norm, "Clip the global gradient L2 norm (0 = off)")->capture_default_str();
    app.add_option("--seed", a.seed, "Seed for init, dropout, shuffling and the split")->capture_default_str();
    app.add_option("--max-steps", a.max_steps, "Stop after this many optimizer steps (overrides epochs)")->capture_default_str();
    app.add_option("--gradient-accumulation-steps", a.gradient_accumulation_steps, "Micro-batches per optimizer step")->capture_default_str();
    app.add_option("--lr-scheduler-type", a.lr_scheduler_type, "linear|cosine|constant|constant_with_warmup")->capture_default_str();
    app.add_option("--adam-beta1", a.adam_beta1)->capture_default_str();
    app.add_option("--adam-beta2", a.adam_beta2)->capture_default_str();
    app.add_option("--adam-epsilon", a.adam_epsilon)->capture_default_str();
    app.add_option("--logging-steps", a.logging_steps, "Log the running loss every N steps")->capture_default_str();
    app.add_option("--eval-strategy,--evaluation-strategy", a.eval_strategy, "no|steps|epoch (accent default: epoch when there is validation data)");
    app.add_option("--eval-steps", a.eval_steps, "Evaluate every N steps (with --eval-strategy steps)");
    app.add_option("--save-strategy", a.save_strategy, "no|steps|epoch")->capture_default_str();
    app.add_option("--save-steps", a.save_steps, "Checkpoint every N steps")->capture_default_str();
    app.add_option("--save-total-limit", a.save_total_limit, "Keep only the newest N checkpoints (and the best)");
    app.add_option("--metric-for-best-model", o->metric, "e.g. accuracy, f1, loss");
    app.add_flag("--greater-is-better", o->greater_is_better, "The best-model metric is better when larger");
    app.add_flag("--lower-is-better", o->lower_is_better, "The best-model metric is better when smaller");
    app.add_flag("--load-best-model-at-end", a.load_best_model_at_end, "Finish with the best evaluated weights");
    app.add_option("--early-stopping-patience", o->patience, "Stop after N evaluations without improvement");
    app.add_option("--resume-from-checkpoint", o->resume, "checkpoint-<step> directory, or 'latest'");
    app.add_option("--ddp-timeout", a.ddp_timeout, "Data-parallel runs: seconds a rank waits for the others before "
                   "stopping with an error naming the missing rank")->capture_default_str()->check(integer_in(1, 1 << 30));
    app.add_option("--ddp-bucket-cap-mb", a.ddp_bucket_cap_mb, "Data-parallel runs: gradient all-reduce bucket size "
                   "in MB (default 25, as DDP)")->check(integer_in(1, 1 << 20));
    app.add_flag("--ddp-bf16-compress", a.ddp_bf16_compress, "Data-parallel runs: all-reduce gradients in bf16 "
                 "(half the bytes on the wire; each hop rounds partial sums to bf16)");
    app.add_option("--progress", a.progress, "auto|bar|plain|none")->capture_default_str();
    app.add_option("--report-to", a.report_to, "Comma-separated: html (report.html in --output-dir: curves, confusion "
                   "matrix, data, settings, timings), tensorboard (event files in --logging-dir), all, or none")
        ->check([](const std::string& v) {
          try { check_report_to(v); } catch (const std::exception& e) { return std::string(e.what()); }
          return std::string();
        })->capture_default_str();
    app.add_option("--logging-dir", a.logging_dir, "TensorBoard log directory (default: OUTPUT_DIR/runs/<date>_<host>)");
    app.add_option("--events-jsonl", a.events_jsonl, "Write one JSON object per event to this file ('-' = stdout)");
    app.add_flag("--json", o->json, "Print the final metrics as one JSON object on stdout");
    a.eval_strategy = "epoch";
    a.save_strategy = "epoch";
    return [o] { return run_train(*o); };
  }};

}  // namespace
}  // namespace accent::cli
