#include "train/finetune.h"

#include "data/ner_data.h"
#include "data/ner_features.h"
#include "data/qa_features.h"
#include "data/split.h"
#include "data/squad_data.h"
#include "train/question_answering_eval.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <iostream>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "data/csv_writer.h"
#include "io/config.h"
#include "io/hub.h"
#include "io/model_dir_save.h"
#include "models/int8_quantization.h"
#include "models/registry.h"
#include "train/data_parallel.h"
#include "train/run_identity.h"
#include "train/sharded_train_source.h"
#include "train/tensorboard_writer.h"
#include "train/training_report.h"

namespace fs = std::filesystem;

namespace accent {

namespace {

std::string resolve_model(const ModelArguments& m) {
  HubOptions hub = HubOptions::from_env();
  hub.revision = m.revision;
  if (m.offline) hub.offline = true;
  return resolve_pretrained(m.model, default_pretrained_files(), hub);
}

// A label map is "default" when it is HF's placeholder LABEL_0..LABEL_{n-1}.
bool is_default_labels(const ModelConfig& c) {
  for (const auto& [id, name] : c.id2label)
    if (name != "LABEL_" + std::to_string(id)) return false;
  return true;
}

// Keeps the checkpoint's label order when it already classifies exactly these labels (run_glue does the same).
LabelMap labels_matching_checkpoint(const LabelMap& data_labels, const ModelConfig& config) {
  if (config.id2label.empty() || is_default_labels(config)) return data_labels;
  std::set<std::string> ours(data_labels.id2label.begin(), data_labels.id2label.end()), theirs;
  for (const auto& [id, name] : config.id2label) theirs.insert(name);
  if (ours != theirs) return data_labels;
  std::vector<std::string> names;
  for (const auto& [id, name] : config.id2label) names.push_back(name);
  return LabelMap::from_names(names);
}

void write_json(const std::string& path, const nlohmann::json& j) { write_file_atomic(path, j.dump(2) + "\n"); }

// Writes the rows of a split so that `accent evaluate --data` can score exactly the held-out examples later.
void write_split_csv(const std::string& path, const Dataset& data, const ReadOptions& read) {
  const bool pair = !read.text_pair_column.empty();
  std::string out = csv_record(pair ? std::vector<std::string>{"text", "text_pair", "label"}
                                    : std::vector<std::string>{"text", "label"});
  const std::string sep = read.label_separator.empty() ? "|" : read.label_separator;
  for (const auto& ex : data.rows) {
    std::string label;
    for (size_t i = 0; i < ex.label.names.size(); ++i) label += (i ? sep : "") + ex.label.names[i];
    std::vector<std::string> row{ex.text};
    if (pair) row.push_back(ex.text_pair.value_or(""));
    row.push_back(label);
    out += csv_record(row);
  }
  write_file_atomic(path, out);
}

// The id batches are padded with: the tokenizer's pad token, else its EOS token (HF's recipe for tokenizers
// without one).
int64_t batch_pad_id(const Tokenizer& tok) {
  auto pad = tok.pad_token_id();
  if (!pad) {
    // GPT-2 has no pad token. HF's fine-tuning recipe: tokenizer.pad_token = tokenizer.eos_token and
    // model.config.pad_token_id = eos_token_id; GPT2ForSequenceClassification then pools the rightmost token that
    // is not the pad id, so padding with EOS is harmless (models/gpt2_classifier.h does the same).
    if (auto eos = tok.special_token("eos_token")) pad = tok.token_to_id(*eos);
    ACCENT_CHECK(pad.has_value(), "the tokenizer has neither a pad token nor an EOS token, so batches cannot be "
                 "padded; set pad_token in tokenizer_config.json");
    static bool said = false;
    if (!said) {
      std::cerr << "note: the tokenizer has no pad token; padding with the EOS token (id " << *pad
                << ") as Hugging Face's GPT-2 recipe does (pad_token = eos_token)\n";
      said = true;
    }
  }
  return *pad;
}

BatcherOptions batcher_options(const Tokenizer& tok, int64_t batch_size, int64_t seed) {
  BatcherOptions o;
  o.batch_size = batch_size;
  o.pad_id = static_cast<int32_t>(batch_pad_id(tok));
  o.seed = static_cast<uint64_t>(seed);
  return o;
}

// The config's vocabulary must cover every id the tokenizer can produce, and positions the longest input.
void check_model_fits(const ModelConfig& config, const Tokenizer& tok, int64_t max_length, const std::string& dir) {
  ACCENT_CHECK(tok.vocab_size() <= config.vocab_size, dir, ": the tokenizer has ", tok.vocab_size(),
               " tokens but config.json vocab_size is ", config.vocab_size,
               " (embedding rows); the tokenizer does not belong to this model");
  ACCENT_CHECK(max_length <= config.max_position_embeddings, "--max-length ", max_length,
               " is above the model's max_position_embeddings (", config.max_position_embeddings, ") in ", dir);
  ACCENT_CHECK(max_length >= tok.num_special_tokens_to_add(false) + 1, "--max-length ", max_length,
               " leaves no room for text after the special tokens");
}

// What makes a checkpoint this run's own (train/run_identity.h): the data bytes and how they were read and split,
// the labels, the model.
RunIdentity run_identity(const ModelArguments& m, const DataArguments& d, const LabelSetup& labels) {
  RunIdentity id;
  uint64_t h = fnv1a64(read_file(d.train_file));
  if (!d.validation_file.empty()) h = fnv1a64(read_file(d.validation_file), fnv1a64("\x1fvalidation\x1f", h));
  const ReadOptions& r = d.read;
  const nlohmann::json how = {{"format", r.format}, {"has_header", r.has_header ? nlohmann::json(*r.has_header) : nlohmann::json()},
                              {"quoting", r.quoting}, {"replace_invalid_utf8", r.replace_invalid_utf8},
                              {"text_column", r.text_column}, {"text_pair_column", r.text_pair_column},
                              {"label_column", r.label_column}, {"label_type", r.label_type},
                              {"label_separator", r.label_separator}, {"drop_empty_text", r.drop_empty_text},
                              {"drop_missing_labels", r.drop_missing_labels}, {"validation_split", d.validation_split},
                              {"stratify", d.stratify}, {"max_length", d.max_length},
                              {"pad_to_max_length", d.pad_to_max_length}, {"pad_to_multiple_of", d.pad_to_multiple_of},
                              {"group_by_length", d.group_by_length}};
  h = fnv1a64(how.dump(), h);
  char hex[17];
  std::snprintf(hex, sizeof hex, "%016llx", static_cast<unsigned long long>(h));
  id.data_fingerprint = hex;
  id.labels = labels.labels.id2label;
  id.problem_type = labels.problem_type;
  // What is trained on top of the model: full, LoRA (its settings) or partly frozen.
  id.model = m.model;
  if (m.lora) id.model += " lora " + m.lora->to_json().dump();
  if (m.freeze.embeddings || m.freeze.layers > 0)
    id.model += " freeze embeddings=" + std::to_string(m.freeze.embeddings) + " layers=" + std::to_string(m.freeze.layers);
  return id;
}

// Wall-clock seconds per phase of the job, for the report.
class PhaseTimer {
 public:
  void end(const std::string& phase) {
    const auto now = std::chrono::steady_clock::now();
    phases_.emplace_back(phase, std::chrono::duration<double>(now - start_).count());
    start_ = now;
  }
  const std::vector<std::pair<std::string, double>>& phases() const { return phases_; }

 private:
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::vector<std::pair<std::string, double>> phases_;
};

// A split as the report shows it: label counts and token lengths of its encoded examples.
ReportSplit report_split(const std::string& name, const std::string& source, const EncodedDataset& data,
                         const LabelSetup& labels) {
  ReportSplit s;
  s.name = name;
  s.source = source;
  s.rows = static_cast<int64_t>(data.examples.size());
  s.truncated = data.truncated;
  if (labels.problem_type != "regression") s.label_counts.assign(static_cast<size_t>(labels.num_labels), 0);
  for (const EncodedExample& x : data.examples) {
    s.token_lengths.push_back(static_cast<int64_t>(x.input_ids.size()));
    if (labels.problem_type == "single_label_classification" && x.class_label >= 0 &&
        x.class_label < static_cast<int64_t>(s.label_counts.size()))
      ++s.label_counts[static_cast<size_t>(x.class_label)];
    for (int64_t t : x.token_labels)  // token classification: labelled tokens per label
      if (t >= 0 && t < static_cast<int64_t>(s.label_counts.size())) ++s.label_counts[static_cast<size_t>(t)];
    if (labels.problem_type == "multi_label_classification")
      for (size_t c = 0; c < x.float_labels.size() && c < s.label_counts.size(); ++c) s.label_counts[c] += x.float_labels[c] > 0.5f;
  }
  return s;
}

// train_test_split(test_size, random_state=seed) of a list (sentences, questions): `items` keeps the train part,
// `held_out` receives the test part, both in scikit-learn's order.
template <typename T>
void split_items(std::vector<T>& items, std::vector<T>& held_out, double test_size, int64_t seed) {
  const SplitIndices split = train_test_split(static_cast<int64_t>(items.size()), test_size, static_cast<uint32_t>(seed));
  std::vector<T> train_part;
  for (int64_t i : split.train) train_part.push_back(items[static_cast<size_t>(i)]);
  for (int64_t i : split.test) held_out.push_back(items[static_cast<size_t>(i)]);
  items = std::move(train_part);
}

// Token classification (run_ner.py): the sentences' features with one label per token, as EncodedExamples.
EncodedDataset encode_ner(const Tokenizer& tokenizer, const std::vector<TaggedSentence>& sentences,
                          const LabelSetup& labels, const DataArguments& d) {
  NerFeatureOptions o;
  o.max_seq_length = d.max_length;
  o.pad_to_max_length = d.pad_to_max_length;
  o.label_all_tokens = d.label_all_tokens;
  std::vector<NerFeature> features = tokenize_and_align_labels(tokenizer, sentences, labels.labels.id2label, o);
  EncodedDataset out;
  const bool keep_types = tokenizer.returns_token_type_ids();
  for (size_t i = 0; i < features.size(); ++i) {
    NerFeature& f = features[i];
    EncodedExample x;
    x.input_ids = std::move(f.encoding.ids);
    if (keep_types) x.token_type_ids = std::move(f.encoding.type_ids);
    x.token_labels.assign(f.labels.begin(), f.labels.end());
    // A sentence whose last word lost its tokens to truncation.
    int64_t words_kept = 0;
    for (int32_t w : f.encoding.word_ids) words_kept = std::max<int64_t>(words_kept, w + 1);
    if (words_kept < static_cast<int64_t>(sentences[i].tokens.size())) ++out.truncated;
    out.examples.push_back(std::move(x));
  }
  return out;
}

// Question answering (run_qa.py prepare_train_features): every window of every question with its answer tokens.
EncodedDataset encode_squad(const Tokenizer& tokenizer, const std::vector<SquadExample>& questions,
                            const QaDataArguments& qa_args) {
  QaTrainFeatures features = prepare_train_features(tokenizer, questions, qa_args);
  EncodedDataset out;
  const bool keep_types = tokenizer.returns_token_type_ids();
  std::vector<int64_t> windows(questions.size(), 0);
  for (size_t f = 0; f < features.features.size(); ++f) {
    QaTrainFeature& x = features.features[f];
    EncodedExample e;
    e.input_ids = std::move(x.input_ids);
    if (keep_types) e.token_type_ids = std::move(x.token_type_ids);
    e.start_position = x.start_position;
    e.end_position = x.end_position;
    ++windows[static_cast<size_t>(features.overflow_to_sample_mapping[f])];
    out.examples.push_back(std::move(e));
  }
  for (int64_t w : windows) out.truncated += w > 1;  // questions whose context needed several windows
  return out;
}

// The sentences as JSON Lines {"tokens", "ner_tags"} (the validation split, kept beside the model).
void write_split_jsonl(const std::string& path, const std::vector<TaggedSentence>& sentences) {
  std::string text;
  for (const TaggedSentence& s : sentences)
    text += nlohmann::json{{"tokens", s.tokens}, {"ner_tags", s.tags}}.dump(-1, ' ', false,
                                                                          nlohmann::json::error_handler_t::replace) + "\n";
  write_file_atomic(path, text);
}

std::string utc_now_iso8601() {
  const std::time_t t = std::time(nullptr);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

ModelTask detect_task(const std::string& train_file) {
  if (looks_like_ner_file(train_file)) return ModelTask::TokenClassification;
  if (looks_like_squad_file(train_file)) return ModelTask::QuestionAnswering;
  return ModelTask::SequenceClassification;
}

LabelSetup setup_labels(const Dataset& train, const std::optional<std::string>& forced_problem_type) {
  LabelSetup s;
  switch (train.label_kind) {
    case LabelKind::Float: s.problem_type = "regression"; break;
    case LabelKind::MultiLabel: s.problem_type = "multi_label_classification"; break;
    case LabelKind::Integer:
    case LabelKind::String: s.problem_type = "single_label_classification"; break;
    case LabelKind::None: fail(train.path, ": no label column; training needs labels");
  }
  if (forced_problem_type) s.problem_type = *forced_problem_type;
  if (s.problem_type == "regression") {
    ACCENT_CHECK(train.label_kind != LabelKind::MultiLabel, train.path, ": multi-label rows cannot be regression targets");
    s.num_labels = 1;
    return s;
  }
  ACCENT_CHECK(train.label_kind != LabelKind::Float, train.path,
               ": labels are real numbers; use --problem-type regression or --label-type class");
  s.labels = build_label_map(train);
  s.num_labels = s.labels.size();
  ACCENT_CHECK(s.num_labels >= 2 || s.problem_type == "multi_label_classification", train.path, ": the label column has ",
               s.num_labels, " class", s.num_labels == 1 ? " ('" + s.labels.id2label[0] + "')" : "",
               "; classification needs at least two");
  return s;
}

EncodedDataset encode_dataset(const Tokenizer& tokenizer, const Dataset& data, const LabelSetup& labels,
                              int64_t max_length) {
  EncodedDataset out;
  const size_t n = data.rows.size();
  out.examples.resize(n);
  std::vector<int64_t> class_ids;
  std::vector<float> multi;
  std::vector<float> targets;
  if (data.label_kind != LabelKind::None) {
    if (labels.problem_type == "single_label_classification") class_ids = encode_class_labels(data, labels.labels);
    if (labels.problem_type == "multi_label_classification") multi = encode_multi_labels(data, labels.labels);
    if (labels.problem_type == "regression") targets = regression_targets(data);
  }
  EncodeOptions opts;
  opts.max_length = max_length;
  opts.truncation = TruncationStrategy::LongestFirst;
  EncodeOptions untruncated;
  const bool keep_types = tokenizer.returns_token_type_ids();
  int64_t truncated = 0;
#pragma omp parallel for schedule(dynamic, 64) reduction(+ : truncated)
  for (size_t i = 0; i < n; ++i) {
    const Example& ex = data.rows[i];
    std::optional<std::string_view> pair;
    if (ex.text_pair) pair = *ex.text_pair;
    Encoding e = tokenizer.encode(ex.text, pair, opts);
    if (static_cast<int64_t>(e.ids.size()) == max_length &&
        static_cast<int64_t>(tokenizer.encode(ex.text, pair, untruncated).ids.size()) > max_length)
      ++truncated;
    EncodedExample& x = out.examples[i];
    x.input_ids = std::move(e.ids);
    if (keep_types) x.token_type_ids = std::move(e.type_ids);
    if (!class_ids.empty()) x.class_label = class_ids[i];
    const int64_t C = labels.num_labels;
    if (!multi.empty()) x.float_labels.assign(multi.begin() + i * C, multi.begin() + (i + 1) * C);
    if (!targets.empty()) x.float_labels = {targets[i]};
  }
  out.truncated = truncated;
  return out;
}

FinetuneResult run_finetune(const ModelArguments& model_args, const DataArguments& data_args,
                            const TrainingArguments& args, const FinetuneHooks& hooks) {
  args.validate();
  // Data-parallel (torchrun's environment): join the job first; rank 0 alone writes into output_dir
  // (train/data_parallel.h).
  const std::unique_ptr<ProcessGroup> group = join_data_parallel_job(std::chrono::seconds(args.ddp_timeout));
  DataParallel dp;
  dp.group = group.get();
  if (args.ddp_bucket_cap_mb) dp.reducer.bucket_bytes = static_cast<size_t>(*args.ddp_bucket_cap_mb) << 20;
  dp.reducer.bf16_compression = args.ddp_bf16_compress;
  const bool writes_files = dp.is_world_process_zero();
  if (dp.active())
    std::cerr << "data-parallel: " << dp.world_size() << " process" << (dp.world_size() == 1 ? "" : "es")
              << "; global batch "
              << args.per_device_train_batch_size << " × " << dp.world_size() << " × "
              << args.gradient_accumulation_steps << " = "
              << args.per_device_train_batch_size * dp.world_size() * args.gradient_accumulation_steps << "\n";
  // Before any work: a reused --output-dir is refused unless the flags say what to do.
  if (writes_files) prepare_output_dir(args);
  if (dp.active()) dp.group->barrier("the output directory check on rank 0");
  PhaseTimer timer;
  std::string dir;
  local_main_process_first(dp.group, [&] { dir = resolve_model(model_args); });
  Tokenizer tokenizer = Tokenizer::from_pretrained(dir);
  ModelConfig config = load_config((fs::path(dir) / "config.json").string());
  check_model_fits(config, tokenizer, data_args.max_length, dir);

  // ---- data ----
  const ModelTask task = model_args.task.value_or(detect_task(data_args.train_file));
  const bool token_task = task == ModelTask::TokenClassification;
  const bool qa_task = task == ModelTask::QuestionAnswering;
  Dataset train_data, eval_data;
  std::vector<TaggedSentence> train_sentences, eval_sentences;
  std::vector<SquadExample> train_questions, eval_questions;
  QaDataArguments qa_args;
  LabelSetup labels;
  bool have_eval = true;
  if (qa_task) {
    // run_qa.py: SQuAD v1.1/v2.0 (nested or flat rows); v2 handling when the data has unanswerable questions.
    const SquadData train_squad = read_squad_file(data_args.train_file);
    train_questions = train_squad.examples;
    qa_args.max_seq_length = data_args.max_length;
    qa_args.doc_stride = data_args.doc_stride;
    qa_args.version_2_with_negative = train_squad.has_impossible();
    std::cerr << data_args.train_file << ": " << train_questions.size() << " questions (SQuAD "
              << (qa_args.version_2_with_negative ? "v2.0, with unanswerable questions" : "v1.1") << ")\n";
    labels.num_labels = 2;
    labels.labels = LabelMap::from_names({"LABEL_0", "LABEL_1"});
    if (!data_args.validation_file.empty()) {
      const SquadData eval_squad = read_squad_file(data_args.validation_file);
      eval_questions = eval_squad.examples;
      qa_args.version_2_with_negative |= eval_squad.has_impossible();
      std::cerr << data_args.validation_file << ": " << eval_questions.size() << " questions\n";
    } else if (data_args.validation_split > 0) {
      split_items(train_questions, eval_questions, data_args.validation_split, args.seed);
      std::cerr << "split: " << train_questions.size() << " train / " << eval_questions.size()
                << " validation questions (test_size=" << data_args.validation_split << ", random_state=" << args.seed
                << ")\n";
    } else {
      have_eval = false;
    }
  } else if (token_task) {
    // run_ner.py: label list = the sorted tags of the training set; RoBERTa/GPT-2 tokenizers get add_prefix_space.
    if (tokenizer.family() == TokenizerFamily::Roberta || tokenizer.family() == TokenizerFamily::Gpt2)
      tokenizer.set_add_prefix_space(true);
    train_sentences = read_ner_file(data_args.train_file);
    std::cerr << data_args.train_file << ": " << train_sentences.size() << " sentences\n";
    labels.labels = labels_matching_checkpoint(LabelMap::from_names(label_list(train_sentences)), config);
    labels.num_labels = labels.labels.size();
    if (!data_args.validation_file.empty()) {
      eval_sentences = read_ner_file(data_args.validation_file);
      std::cerr << data_args.validation_file << ": " << eval_sentences.size() << " sentences\n";
    } else if (data_args.validation_split > 0) {
      split_items(train_sentences, eval_sentences, data_args.validation_split, args.seed);
      std::cerr << "split: " << train_sentences.size() << " train / " << eval_sentences.size()
                << " validation sentences (test_size=" << data_args.validation_split << ", random_state=" << args.seed
                << ")\n";
    } else {
      have_eval = false;
    }
  } else {
    train_data = read_dataset(data_args.train_file, data_args.read);
    std::cerr << train_data.summary.to_string() << "\n";
    labels = setup_labels(train_data, model_args.problem_type);
    if (!data_args.validation_file.empty()) {
      eval_data = read_dataset(data_args.validation_file, data_args.read);
      std::cerr << eval_data.summary.to_string() << "\n";
    } else if (data_args.validation_split > 0) {
      const LabelMap* strat = data_args.stratify && labels.problem_type == "single_label_classification" ? &labels.labels : nullptr;
      ACCENT_CHECK(!data_args.stratify || strat, "--stratify needs single-label classification");
      auto [tr, ev] = split_dataset(train_data, data_args.validation_split, static_cast<uint32_t>(args.seed), strat);
      train_data = std::move(tr);
      eval_data = std::move(ev);
      std::cerr << "split: " << train_data.rows.size() << " train / " << eval_data.rows.size()
                << " validation rows (test_size=" << data_args.validation_split << ", random_state=" << args.seed << ")\n";
      // A split can leave a class only in validation; then the label map must still come from all labels.
    } else {
      have_eval = false;
    }
    if (labels.problem_type != "regression") labels.labels = labels_matching_checkpoint(labels.labels, config);
  }
  timer.end("read data");

  // ---- model ----
  LoadOptions load;
  load.seed = static_cast<uint64_t>(args.seed);
  load.ignore_mismatched_sizes = model_args.ignore_mismatched_sizes;
  load.task = task;
  load.pad_token_id = batch_pad_id(tokenizer);  // model.config.pad_token_id = tokenizer.pad_token_id (when none)
  if (!token_task && !qa_task) load.problem_type = labels.problem_type;
  if (labels.problem_type == "regression") load.num_labels = 1;
  else load.labels = labels.labels.id2label;
  std::unique_ptr<SequenceClassifier> model;
  if (has_model_weights(dir)) {
    model = load_sequence_classifier(dir, load);
    ACCENT_CHECK(int8_module_names(*model).empty(), dir, ": an int8 model (made by `accent quantize`) is for "
                 "inference only; fine-tune the full-precision model it was made from");
  } else {
    std::cerr << "note: " << dir << " has config.json but no model weights (model.safetensors): initialising every "
              << "parameter randomly from the config (seed " << args.seed << "). This trains from scratch; it is not "
              << "fine-tuning a pretrained model.\n";
    if (labels.problem_type == "regression") config.set_num_labels(1);
    else config.set_labels(labels.labels.id2label);
    if (!token_task && !qa_task) config.problem_type = labels.problem_type;
    if (!config.pad_token_id) config.pad_token_id = load.pad_token_id;
    model = create_sequence_classifier(config, static_cast<uint64_t>(args.seed), task);
  }
  // GPT-2, Qwen2 and Llama classify from the last token that is not the pad id: padding with another id would be
  // read as text, and the head would pool a pad token.
  const std::string& family = model->config()->model_type;
  ACCENT_CHECK(!(family == "gpt2" || family == "qwen2" || family == "llama") ||
                   model->config()->pad_token_id == load.pad_token_id,
               dir, ": config.json pad_token_id ", model->config()->pad_token_id.value_or(-1),
               " is not the tokenizer's pad id ", *load.pad_token_id, ": ", family,
               " pools the last token that is not the pad id, so batches padded with ", *load.pad_token_id,
               " would be classified from a pad token; make pad_token_id and the tokenizer's pad_token agree");

  if (model_args.lora) {
    LoraConfig lc = *model_args.lora;
    lc.task_type = peft_task_type(task);  // PeftModelForTokenClassification / ...ForQuestionAnswering: their heads
    if (task != ModelTask::SequenceClassification) lc.modules_to_save = default_modules_to_save(task);
    // As PEFT: the name passed to from_pretrained (a local directory is made absolute so the adapter loads from
    // any working directory).
    lc.base_model_name_or_path = fs::is_directory(model_args.model) ? fs::absolute(model_args.model).lexically_normal().string()
                                                                     : model_args.model;
    auto lora = std::make_unique<LoraModel>(std::move(model), lc, static_cast<uint64_t>(args.seed));
    int64_t trainable = 0, total = 0;
    for (const Parameter* p : lora->parameters()) (p->trainable ? trainable : total) += p->value.numel();
    total += trainable;
    std::cerr << "LoRA: " << lora->adapters().size() << " adapted modules (r=" << lc.hyper.r << ", alpha="
              << lc.hyper.alpha << "); trainable params: " << trainable << " || all params: " << total
              << " || trainable%: " << 100.0 * static_cast<double>(trainable) / static_cast<double>(total) << "\n";
    model = std::move(lora);
  }
  if (model_args.freeze.embeddings || model_args.freeze.layers > 0) {
    const int64_t n = apply_freezing(*model, model_args.freeze);
    std::cerr << "frozen: " << n << " parameter tensors (embeddings " << (model_args.freeze.embeddings ? "yes" : "no")
              << ", bottom layers " << model_args.freeze.layers << ")\n";
  }

  model->set_op_context(default_op_context());  // like Trainer's model.to(args.device), once the model is complete
  // GPU ranks all-reduce their gradients over NCCL (dist/nccl_communicator.h); destroyed before the group.
  std::unique_ptr<NcclCommunicator> nccl;
  if (dp.active()) check_ranks_agree(*dp.group, {{"devices", model->op_context().backend == Backend::Cuda ? "cuda" : "cpu"}});
  if (dp.active() && model->op_context().backend == Backend::Cuda) {
    nccl = std::make_unique<NcclCommunicator>(*dp.group);
    dp.nccl = nccl.get();
  }
  timer.end("load model");

  // ---- tokenize ----
  EncodedDataset train_enc, eval_enc;
  QaEvalData qa_eval;
  if (qa_task) {
    train_enc = encode_squad(tokenizer, train_questions, qa_args);
    if (have_eval) {
      qa_eval.examples = eval_questions;
      qa_eval.features = prepare_validation_features(tokenizer, eval_questions, qa_args);
      qa_eval.args = qa_args;
      qa_eval.pad_id = tokenizer.pad_token_id().value_or(0);
      qa_eval.token_types = tokenizer.returns_token_type_ids();
      std::cerr << "validation: " << qa_eval.features.features.size() << " features from " << eval_questions.size()
                << " questions\n";
    }
  } else if (token_task) {
    train_enc = encode_ner(tokenizer, train_sentences, labels, data_args);
    if (have_eval) eval_enc = encode_ner(tokenizer, eval_sentences, labels, data_args);
  } else {
    train_enc = encode_dataset(tokenizer, train_data, labels, data_args.max_length);
    if (have_eval) eval_enc = encode_dataset(tokenizer, eval_data, labels, data_args.max_length);
  }
  if (qa_task) {
    std::cerr << "tokenized: " << train_enc.examples.size() << " train features (windows of " << data_args.max_length
              << " tokens, stride " << data_args.doc_stride << "; " << train_enc.truncated
              << " questions needed several)\n";
  } else {
    std::cerr << "tokenized: " << train_enc.examples.size() << " train examples (" << train_enc.truncated
              << " truncated to " << data_args.max_length << " tokens)";
    if (have_eval) std::cerr << ", " << eval_enc.examples.size() << " validation (" << eval_enc.truncated << " truncated)";
    std::cerr << "\n";
  }
  timer.end("tokenize");

  BatcherOptions train_opts = batcher_options(tokenizer, args.per_device_train_batch_size, args.seed);
  train_opts.group_by_length = data_args.group_by_length;
  train_opts.pad_to_multiple_of = data_args.pad_to_multiple_of;
  if (data_args.pad_to_max_length) train_opts.pad_to_length = data_args.max_length;
  BatcherOptions eval_opts = train_opts;
  eval_opts.batch_size = args.per_device_eval_batch_size;
  Batcher train_batcher(train_enc.examples, train_opts), eval_batcher(eval_enc.examples, eval_opts);
  // Data-parallel: this rank's shard of every step (train/sharded_train_source.h).
  std::unique_ptr<BatchSource> train_source_ptr;
  if (dp.active()) train_source_ptr = std::make_unique<ShardedTrainSource>(train_batcher, dp.rank(), dp.world_size());
  else train_source_ptr = std::make_unique<BatcherTrainSource>(train_batcher, train_enc.examples.size());
  BatchSource& train_source = *train_source_ptr;
  BatcherEvalSource eval_source(eval_batcher, eval_enc.examples.size());

  // ---- train ----
  fs::create_directories(args.output_dir);
  if (writes_files && have_eval && data_args.validation_file.empty() && !qa_task) {
    if (token_task) write_split_jsonl((fs::path(args.output_dir) / "validation.jsonl").string(), eval_sentences);
    else write_split_csv((fs::path(args.output_dir) / "validation.csv").string(), eval_data, data_args.read);
  }
  TrainingArguments run_args = args;
  if (!have_eval) run_args.eval_strategy = "no";
  const RunIdentity identity = run_identity(model_args, data_args, labels);
  if (run_args.resume_from_checkpoint) run_args.resume_from_checkpoint = checkpoint_for_resume(run_args, identity);
  TrainCallbacks callbacks;
  callbacks.save_extra_files = [&](const std::string& checkpoint_dir) {
    write_json((fs::path(checkpoint_dir) / kRunIdentityFile).string(), identity.to_json());
    tokenizer.save_pretrained(checkpoint_dir);
    if (model_args.lora) model->save_pretrained(checkpoint_dir);  // the checkpoint is also a PEFT adapter directory
  };
  callbacks.caller_saves_final_state = true;
  std::unique_ptr<TensorBoardWriter> tensorboard;
  if (writes_files && run_args.reports_to("tensorboard")) {
    if (run_args.logging_dir.empty()) run_args.logging_dir = default_logging_dir(args.output_dir);
    tensorboard = std::make_unique<TensorBoardWriter>(run_args.logging_dir);
    // As TensorBoardCallback.on_train_begin: the arguments and the model's config as text.
    tensorboard->add_text("args", to_json(run_args).dump(2), 0);
    if (const ModelConfig* c = model->config()) tensorboard->add_text("model_config", config_to_json_string(*c), 0);
    tensorboard->flush();
    std::cerr << "TensorBoard: " << tensorboard->path() << "\n";
  }
  callbacks.on_log = [&](const nlohmann::json& entry) {
    if (tensorboard) tensorboard->add_log(entry, entry.value("step", int64_t{0}));
    if (hooks.on_log) hooks.on_log(entry);
  };
  callbacks.on_step_end = hooks.on_step_end;
  if (qa_task && have_eval)  // run_qa.py's QuestionAnsweringTrainer: post-processed answers, SQuAD EM/F1
    callbacks.evaluate = [&](const std::string& prefix) {
      return evaluate_question_answering(*model, qa_eval, args.per_device_eval_batch_size, prefix);
    };
  FinetuneResult result;
  result.output_dir = args.output_dir;
  result.train = train(*model, run_args, train_source, have_eval && !qa_task ? &eval_source : nullptr, callbacks, dp);
  timer.end("train");
  nlohmann::json all = result.train.metrics;
  std::vector<QaExamplePrediction> qa_predictions;
  if (have_eval) {
    result.eval = qa_task ? evaluate_question_answering(*model, qa_eval, args.per_device_eval_batch_size, "eval",
                                                        &qa_predictions)
                          : evaluate(*model, eval_source, "eval", dp.group);
    for (auto& [k, v] : result.eval->metrics.items()) all[k] = v;
    timer.end("final evaluation");
  }

  // ---- save: a directory transformers loads unchanged, swapped in as a whole (io/model_dir_save.h) ----
  if (!writes_files) return result;  // data-parallel: rank 0 saves (every rank holds the same weights)
  ModelDirSave save(args.output_dir);
  const fs::path staged = save.staging_dir();
  model->save_pretrained(staged.string());
  tokenizer.save_pretrained(staged.string());
  save_training_args((staged / "training_args.json").string(), run_args);
  write_json((staged / "trainer_state.json").string(), result.train.state);
  write_json((staged / "train_results.json").string(), result.train.metrics);
  if (result.eval) write_json((staged / "eval_results.json").string(), result.eval->metrics);
  if (qa_task && result.eval) {  // run_qa.py's eval_predictions.json: {id: answer}
    nlohmann::json predictions = nlohmann::json::object();
    for (const QaExamplePrediction& p : qa_predictions) predictions[p.id] = p.prediction_text;
    write_file_atomic((staged / "eval_predictions.json").string(),
                      predictions.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
  }
  write_json((staged / "all_results.json").string(), all);
  if (run_args.reports_to("html")) {
    timer.end("save model");
    TrainingReportInput report;
    report.model = identity.model;
    report.output_dir = args.output_dir;
    report.problem_type = labels.problem_type;
    report.labels = labels.labels.id2label;
    report.max_length = data_args.max_length;
    report.splits.push_back(report_split("train", data_args.train_file, train_enc, labels));
    if (have_eval)
      report.splits.push_back(report_split("validation", data_args.validation_file.empty()
                                               ? "split off " + data_args.train_file +
                                                     (token_task ? " (validation.jsonl)" : " (validation.csv)")
                                               : data_args.validation_file, eval_enc, labels));
    report.log_history = result.train.state.value("log_history", nlohmann::json::array());
    report.train_metrics = result.train.metrics;
    if (result.eval) {
      report.eval_metrics = result.eval->metrics;
      report.eval_report = result.eval->report;
    }
    report.settings = to_json(run_args);
    report.timings = timer.phases();
    report.finished_at = utc_now_iso8601();
    write_file_atomic((staged / "report.html").string(), training_report_html(report));
  }
  save.commit();
  return result;
}

EvalResult run_evaluate(const ModelArguments& model_args, const std::string& data_file, const ReadOptions& read,
                        int64_t max_length, int64_t batch_size) {
  const std::string dir = resolve_model(model_args);
  std::unique_ptr<SequenceClassifier> model;
  std::string tokenizer_dir = dir, base_dir = dir;
  if (is_adapter_dir(dir)) {  // a PEFT LoRA adapter on its base model
    base_dir = resolve_adapter_base(dir, model_args.base_model, model_args.offline);
    if (!fs::exists(fs::path(dir) / "tokenizer.json") && !fs::exists(fs::path(dir) / "vocab.txt")) tokenizer_dir = base_dir;
  }
  Tokenizer tokenizer = Tokenizer::from_pretrained(tokenizer_dir);
  ModelConfig config = load_config((fs::path(base_dir) / "config.json").string());
  check_model_fits(config, tokenizer, max_length, base_dir);
  ACCENT_CHECK(has_model_weights(base_dir), base_dir, ": no model weights (model.safetensors) to evaluate");
  if (base_dir != dir) {
    model = load_lora_model(dir, base_dir);
  } else {
    LoadOptions load;
    load.print_warnings = true;
    load.require_all_weights = true;  // evaluating random weights is never what was meant
    model = load_sequence_classifier(dir, load);
  }
  prepare_for_inference(*model);  // --device, --precision (int8 included)
  const ModelConfig* mc = model->config();
  ACCENT_CHECK(mc != nullptr, dir, ": model has no config");

  if (model->task() == ModelTask::QuestionAnswering) {  // run_qa.py's evaluation: answers, then SQuAD EM/F1
    const SquadData squad = read_squad_file(data_file);
    std::cerr << data_file << ": " << squad.examples.size() << " questions\n";
    QaEvalData qa;
    qa.examples = squad.examples;
    qa.args.max_seq_length = max_length;
    // run_qa.py's doc_stride 128 with its max_seq_length 384; a shorter --max-length keeps the same proportion.
    qa.args.doc_stride = std::min<int64_t>(128, max_length / 3);
    std::cerr << "windows of " << max_length << " tokens, stride " << qa.args.doc_stride << "\n";
    qa.args.version_2_with_negative = squad.has_impossible();
    qa.features = prepare_validation_features(tokenizer, qa.examples, qa.args);
    qa.pad_id = tokenizer.pad_token_id().value_or(0);
    qa.token_types = tokenizer.returns_token_type_ids();
    return evaluate_question_answering(*model, qa, batch_size, "eval");
  }
  if (model->task() == ModelTask::TokenClassification) {  // run_ner.py's evaluation: seqeval on the NER file
    if (tokenizer.family() == TokenizerFamily::Roberta || tokenizer.family() == TokenizerFamily::Gpt2)
      tokenizer.set_add_prefix_space(true);
    const std::vector<TaggedSentence> sentences = read_ner_file(data_file);
    std::cerr << data_file << ": " << sentences.size() << " sentences\n";
    LabelSetup labels;
    std::vector<std::string> names;
    for (const auto& [id, name] : mc->id2label) names.push_back(name);
    labels.labels = LabelMap::from_names(names);
    labels.num_labels = labels.labels.size();
    DataArguments d;
    d.max_length = max_length;
    const EncodedDataset enc = encode_ner(tokenizer, sentences, labels, d);
    Batcher batcher(enc.examples, batcher_options(tokenizer, batch_size, 42));
    BatcherEvalSource source(batcher, enc.examples.size());
    return evaluate(*model, source, "eval");
  }
  Dataset data = read_dataset(data_file, read);
  std::cerr << data.summary.to_string() << "\n";
  LabelSetup labels;
  labels.problem_type = mc->problem_type.value_or(mc->num_labels() == 1 ? "regression" : "single_label_classification");
  labels.num_labels = mc->num_labels();
  if (labels.problem_type != "regression") {
    std::vector<std::string> names;
    for (const auto& [id, name] : mc->id2label) names.push_back(name);
    labels.labels = LabelMap::from_names(names);
  }
  EncodedDataset enc = encode_dataset(tokenizer, data, labels, max_length);
  Batcher batcher(enc.examples, batcher_options(tokenizer, batch_size, 42));
  BatcherEvalSource source(batcher, enc.examples.size());
  EvalResult result = evaluate(*model, source, "eval");
  // A NaN loss used to be reported as "eval_loss": null beside an accuracy, with success.
  ACCENT_CHECK(!result.has_loss || std::isfinite(result.loss), dir, ": the evaluation loss on ", data_file,
               " is not finite (", result.loss, "); the model's outputs are NaN or infinite");
  return result;
}

}  // namespace accent
