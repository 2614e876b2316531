// train/finetune.h — the whole `accent train` / `accent evaluate` job, as HF's run_glue.py does it:
//
//   model dir or hub id ─► tokenizer + config ─► read CSV/TSV/JSONL ─► label map (sorted labels, or the
//   checkpoint's own when it already has exactly these labels) ─► validation file or seeded split
//   ─► tokenize (truncation to max_length) ─► batches (shuffled per epoch, dynamic padding)
//   ─► load weights (new head when needed) or random init from config.json (said plainly)
//   ─► Trainer ─► save_pretrained (model + tokenizer + training_args.json + *_results.json).
#pragma once
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "data/batcher.h"
#include "data/dataset.h"
#include "data/label_map.h"
#include "models/partial_freeze.h"
#include "models/peft_adapter.h"
#include "text/tokenizer.h"
#include "train/batcher_source.h"
#include "train/trainer.h"
#include "train/training_args.h"

namespace accent {

struct ModelArguments {
  std::string model;               // local directory or hub id ("bert-base-uncased")
  std::string revision = "main";
  bool offline = false;            // resolve from the Hugging Face cache only
  bool ignore_mismatched_sizes = false;
  std::optional<std::string> problem_type;  // overrides the one inferred from the labels
  // Training: LoRA instead of full fine-tuning (the output directory becomes a PEFT adapter directory).
  std::optional<LoraConfig> lora;
  FreezeOptions freeze;               // full fine-tuning with frozen embeddings / bottom layers
  // Loading an adapter directory: its base model (default: adapter_config.json's base_model_name_or_path).
  std::string base_model;
  // The head to train: sequence classification (CSV/TSV/JSONL of text and label), token classification (CoNLL
  // or JSONL of tokens and ner_tags, run_ner.py), question answering (SQuAD JSON, run_qa.py). nullopt:
  // detect_task(train_file).
  std::optional<ModelTask> task;
};

struct DataArguments {
  std::string train_file;
  std::string validation_file;      // "" → split validation_split off the training file
  double validation_split = 0.1;    // like train_test_split(test_size=0.1, random_state=seed)
  bool stratify = false;
  ReadOptions read;                 // columns, format, label typing (shared by every file)
  int64_t max_length = 128;         // run_glue's max_seq_length
  bool pad_to_max_length = false;   // pad every batch to max_length (the classic fixed-128 recipe)
  int64_t pad_to_multiple_of = 0;
  bool group_by_length = false;
  bool label_all_tokens = false;    // token classification: label every sub-token (run_ner.py's flag)
  int64_t doc_stride = 128;         // question answering: tokens shared by consecutive windows of a context
};

// The task a training file's format implies: token classification for CoNLL / JSONL tokens+ner_tags, question
// answering for SQuAD JSON (nested or flat rows), sequence classification otherwise.
ModelTask detect_task(const std::string& train_file);

// Tokenized examples of a dataset, with targets for the model's problem type.
struct EncodedDataset {
  std::vector<EncodedExample> examples;
  int64_t truncated = 0;  // examples cut to max_length
};

struct LabelSetup {
  LabelMap labels;                  // (C) names in id order; empty for regression
  std::string problem_type;         // single_label_classification | multi_label_classification | regression
  int64_t num_labels = 0;
};

// Labels of a training set: the problem type follows the label kind (Float → regression, MultiLabel →
// multi-label, otherwise single-label), `forced_problem_type` overrides it.
LabelSetup setup_labels(const Dataset& train, const std::optional<std::string>& forced_problem_type);

EncodedDataset encode_dataset(const Tokenizer& tokenizer, const Dataset& data, const LabelSetup& labels,
                              int64_t max_length);

struct FinetuneResult {
  TrainResult train;
  std::optional<EvalResult> eval;   // final evaluation on the validation data
  std::string output_dir;
};

// What a caller of run_finetune may watch (the public API's train(), the Python module).
struct FinetuneHooks {
  std::function<void(const nlohmann::json& entry)> on_log;  // every log_history entry as it is appended
  std::function<void(int64_t global_step)> on_step_end;     // after each optimizer step; may throw to stop the run
};

// Runs the job; everything it reports goes to stderr, results are saved in args.output_dir.
FinetuneResult run_finetune(const ModelArguments& model_args, const DataArguments& data_args,
                            const TrainingArguments& args, const FinetuneHooks& hooks = {});

// `accent evaluate`: a saved model directory on a labelled file (labels must be the model's label names).
EvalResult run_evaluate(const ModelArguments& model_args, const std::string& data_file, const ReadOptions& read,
                        int64_t max_length, int64_t batch_size);

}  // namespace accent
