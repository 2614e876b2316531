// accent/accent.h — accent's public C++ API: classify texts with a saved model, fine-tune a model on a labelled
// file, and tokenize exactly like Hugging Face. This is the only header `cmake --install` puts in place; the layers
// behind it are internal. Link with `find_package(accent)` + `accent::accent`, or `pkg-config --libs accent`.
//
//   accent::api::Runtime::configure({.precision = "fp32", .threads = 2});
//   auto clf = accent::api::TextClassifier::from_pretrained("out/model");
//   auto scores = clf.classify({"a fine film", "dull"});           // what pipeline("text-classification") returns
//   accent::api::TrainingArguments args;  args.output_dir = "out"; args.max_steps = 100;
//   accent::api::train({.model = "bert-base-uncased", .train_file = "train.csv"}, args,
//                      [](const accent::api::TrainLog& log) { /* every log_history entry */ });
//
// Failures (a missing file, a bad row, an input longer than the model) throw std::runtime_error whose what()
// names the file, line or flag and what was expected — the messages of the `accent` CLI.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace accent::api {

// "0.1.0": the version of the library (and of the `accent` CLI built with it).
std::string version();

// Process-wide compute settings, as the CLI's --precision, --device and --threads. Call before loading models.
struct RuntimeOptions {
  std::string precision = "auto";  // auto (bf16 matmuls where the CPU has AMX/AVX512-BF16) | bf16 | fp32
  std::string device = "cpu";      // cpu | cuda | auto
  int threads = 0;                 // 0: the number of physical cores
};
struct Runtime {
  static void configure(const RuntimeOptions& options);
};

// ---- classification: pipeline("text-classification") ----

struct LabelScore {
  std::string label;
  double score = 0;
};

struct ClassifyOptions {
  int64_t top_k = 1;                   // the best k labels per text; 0 = all labels (HF's top_k=None)
  std::string function_to_apply;       // "" (HF's rule from the config) | softmax | sigmoid | none
  bool truncation = false;             // cut inputs longer than max_length (else such an input is an error)
  int64_t max_length = 0;              // 0: the model's positions
  int64_t batch_size = 32;
};

class TextClassifier {
 public:
  // A saved model directory, a PEFT LoRA adapter directory, or a Hugging Face hub id (downloaded unless offline).
  static TextClassifier from_pretrained(const std::string& model, bool offline = true);
  ~TextClassifier();
  TextClassifier(TextClassifier&&) noexcept;
  TextClassifier& operator=(TextClassifier&&) noexcept;

  // Scored labels per text, best first.
  std::vector<std::vector<LabelScore>> classify(const std::vector<std::string>& texts,
                                                const ClassifyOptions& options = {});
  // Text pairs (text, text_pair), as pipeline({"text": a, "text_pair": b}).
  std::vector<std::vector<LabelScore>> classify_pairs(const std::vector<std::pair<std::string, std::string>>& pairs,
                                                      const ClassifyOptions& options = {});
  std::vector<std::string> labels() const;  // id2label in id order

 private:
  struct Impl;
  explicit TextClassifier(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- tokenization: what tokenizer(text, text_pair, truncation=..., max_length=...) returns ----

struct Encoding {
  std::vector<int32_t> input_ids;
  std::vector<int32_t> attention_mask;
  std::vector<int32_t> token_type_ids;
  std::vector<std::string> tokens;
};

class Tokenizer {
 public:
  // A model directory, a tokenizer.json file, or a hub id.
  static Tokenizer from_pretrained(const std::string& model);
  ~Tokenizer();
  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;

  // With max_length > 0 the encoding is truncated to it (longest_first); special tokens are added.
  Encoding encode(const std::string& text, const std::optional<std::string>& text_pair = std::nullopt,
                  int64_t max_length = 0) const;
  // tokenizer(texts, text_pairs, truncation=..., max_length=..., padding=...) for a batch: padding is
  // "do_not_pad" | "longest" (to the batch's longest) | "max_length"; truncation without max_length cuts to the
  // model's maximum length.
  struct BatchOptions {
    bool truncation = false;
    int64_t max_length = 0;          // 0: the model's (model_max_length)
    std::string padding = "do_not_pad";
    bool add_special_tokens = true;
  };
  std::vector<Encoding> encode_batch(const std::vector<std::pair<std::string, std::optional<std::string>>>& inputs,
                                     const BatchOptions& options) const;
  std::string id_to_token(int32_t id) const;  // "" for an unknown id
  int64_t vocab_size() const;                 // len(tokenizer): the vocabulary and added tokens

 private:
  struct Impl;
  explicit Tokenizer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- fine-tuning: run_glue.py's job ----

// The model and data (ModelArguments + DataTrainingArguments of run_glue.py).
struct TrainSetup {
  std::string model;                 // model directory or hub id
  std::string train_file;            // .csv .tsv .txt .jsonl .json with a text and a label column
  std::string validation_file;       // "" → validation_split of the training file
  double validation_split = 0.1;
  std::string text_column = "text", text_pair_column, label_column = "label";
  int64_t max_length = 128;
  bool offline = true;
};

// TrainingArguments' names and defaults (the subset accent implements).
struct TrainingArguments {
  std::string output_dir = "trainer_output";
  double learning_rate = 5e-5;
  double num_train_epochs = 3.0;
  int64_t per_device_train_batch_size = 8;
  int64_t per_device_eval_batch_size = 8;
  int64_t warmup_steps = 0;
  double warmup_ratio = 0.0;
  double weight_decay = 0.0;
  double max_grad_norm = 1.0;
  int64_t seed = 42;
  int64_t max_steps = -1;
  int64_t gradient_accumulation_steps = 1;
  std::string lr_scheduler_type = "linear";
  double logging_steps = 50;
  std::string eval_strategy = "no";   // no | steps | epoch
  std::string save_strategy = "steps";
  double save_steps = 500;
  bool overwrite_output_dir = false;
  std::string progress = "none";      // none | plain | bar (on stderr); the callback gets every log either way
  // Comma-separated: html (report.html in output_dir: curves, confusion matrix, data), tensorboard (event files in
  // logging_dir, as transformers' TensorBoardCallback), all, or none.
  std::string report_to = "html";
  std::string logging_dir;            // "" = output_dir/runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname>
};

// One log_history entry as HF's Trainer logs it: {"loss": .., "learning_rate": .., "grad_norm": .., "epoch": ..,
// "step": ..} during training, {"eval_loss": .., "eval_accuracy": .., ...} at evaluations.
struct TrainLog {
  int64_t step = 0;
  double epoch = 0;
  std::map<std::string, double> values;
};

struct TrainOutput {
  int64_t global_step = 0;
  double training_loss = 0;
  std::map<std::string, double> eval_metrics;  // the final evaluation (empty without validation data)
  std::string output_dir;                      // the saved model (a Hugging Face model directory)
};

// `on_log` receives every log entry; `on_step` is called after each optimizer step with the step number and may
// throw to stop the run (nothing is saved then; the exception reaches the caller).
TrainOutput train(const TrainSetup& setup, const TrainingArguments& args,
                  const std::function<void(const TrainLog&)>& on_log = {},
                  const std::function<void(int64_t step)>& on_step = {});

}  // namespace accent::api
