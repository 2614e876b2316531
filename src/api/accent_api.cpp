// api/accent_api.cpp — the public API (include/accent/accent.h) over the internal layers: TextClassifier is
// serve/text_classification's pipeline, Tokenizer is text/tokenizer, train() is train/finetune's run_finetune,
// Runtime::configure does what the CLI's --precision/--device/--threads do (cli/main.cpp).
#include <omp.h>

#include "accent/accent.h"
#include "core/error.h"
#include "io/tokenizer_location.h"
#include "ops/backend.h"
#include "ops/precision.h"
#include "serve/scores.h"
#include "serve/text_classification.h"
#include "text/tokenizer.h"
#include "train/finetune.h"

namespace accent::api {

std::string version() { return "0.1.0"; }

void Runtime::configure(const RuntimeOptions& options) {
  ACCENT_CHECK(options.threads >= 0, "RuntimeOptions::threads: expected 0 (all physical cores) or more, got ",
               options.threads);
  set_default_precision(resolve_precision(options.precision));
  set_default_backend(resolve_device(options.device));
  omp_set_num_threads(options.threads > 0 ? options.threads : physical_core_count());
}

// ---- TextClassifier ----

struct TextClassifier::Impl {
  TextClassificationPipeline pipeline;
};

TextClassifier::TextClassifier(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TextClassifier::~TextClassifier() = default;
TextClassifier::TextClassifier(TextClassifier&&) noexcept = default;
TextClassifier& TextClassifier::operator=(TextClassifier&&) noexcept = default;

TextClassifier TextClassifier::from_pretrained(const std::string& model, bool offline) {
  return TextClassifier(std::make_unique<Impl>(Impl{TextClassificationPipeline::from_pretrained(model, offline)}));
}

namespace {
PipelineOptions pipeline_options(const ClassifyOptions& o) {
  PipelineOptions p;
  if (!o.function_to_apply.empty()) p.function_to_apply = parse_function_to_apply(o.function_to_apply);
  ACCENT_CHECK(o.top_k >= 0, "ClassifyOptions::top_k: expected 0 (all labels) or a positive k, got ", o.top_k);
  p.top_k = o.top_k == 0 ? TopK{TopK::All, 0} : TopK{TopK::K, o.top_k};
  ACCENT_CHECK(o.max_length >= 0, "ClassifyOptions::max_length: expected 0 (the model's) or more, got ", o.max_length);
  p.truncation = o.truncation || o.max_length > 0;
  if (o.max_length > 0) p.max_length = o.max_length;
  ACCENT_CHECK(o.batch_size >= 1, "ClassifyOptions::batch_size: expected 1 or more, got ", o.batch_size);
  p.batch_size = o.batch_size;
  return p;
}

std::vector<std::vector<api::LabelScore>> to_public(const std::vector<std::vector<accent::LabelScore>>& scored) {
  std::vector<std::vector<api::LabelScore>> out(scored.size());
  for (size_t i = 0; i < scored.size(); ++i)
    for (const auto& s : scored[i]) out[i].push_back({s.label, s.score});
  return out;
}
}  // namespace

std::vector<std::vector<LabelScore>> TextClassifier::classify(const std::vector<std::string>& texts,
                                                              const ClassifyOptions& options) {
  std::vector<TextInput> inputs;
  inputs.reserve(texts.size());
  for (const auto& t : texts) inputs.emplace_back(t, std::nullopt);
  return to_public(impl_->pipeline(inputs, pipeline_options(options)));
}

std::vector<std::vector<LabelScore>> TextClassifier::classify_pairs(
    const std::vector<std::pair<std::string, std::string>>& pairs, const ClassifyOptions& options) {
  std::vector<TextInput> inputs;
  inputs.reserve(pairs.size());
  for (const auto& [a, b] : pairs) inputs.emplace_back(a, b);
  return to_public(impl_->pipeline(inputs, pipeline_options(options)));
}

std::vector<std::string> TextClassifier::labels() const {
  std::vector<std::string> names;
  for (const auto& [id, name] : impl_->pipeline.config().id2label) names.push_back(name);
  return names;
}

// ---- Tokenizer ----

struct Tokenizer::Impl {
  accent::Tokenizer tokenizer;
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;
Tokenizer::Tokenizer(Tokenizer&&) noexcept = default;
Tokenizer& Tokenizer::operator=(Tokenizer&&) noexcept = default;

Tokenizer Tokenizer::from_pretrained(const std::string& model) {
  return Tokenizer(std::make_unique<Impl>(Impl{accent::Tokenizer::from_pretrained(tokenizer_location(model))}));
}

Encoding Tokenizer::encode(const std::string& text, const std::optional<std::string>& text_pair,
                           int64_t max_length) const {
  ACCENT_CHECK(max_length >= 0, "Tokenizer::encode: max_length must be 0 (no truncation) or more, got ", max_length);
  EncodeOptions o;
  if (max_length > 0) {
    o.max_length = max_length;
    o.truncation = TruncationStrategy::LongestFirst;
  }
  std::optional<std::string_view> pair;
  if (text_pair) pair = *text_pair;
  accent::Encoding e = impl_->tokenizer.encode(text, pair, o);
  return Encoding{std::move(e.ids), std::move(e.attention_mask), std::move(e.type_ids), std::move(e.tokens)};
}

std::vector<Encoding> Tokenizer::encode_batch(
    const std::vector<std::pair<std::string, std::optional<std::string>>>& inputs, const BatchOptions& options) const {
  ACCENT_CHECK(options.max_length >= 0, "Tokenizer::encode_batch: max_length must be 0 (the model's) or more, got ",
               options.max_length);
  EncodeOptions o;
  o.add_special_tokens = options.add_special_tokens;
  if (options.max_length > 0) o.max_length = options.max_length;
  if (options.truncation) o.truncation = TruncationStrategy::LongestFirst;
  if (options.padding == "longest") o.padding = PaddingStrategy::Longest;
  else if (options.padding == "max_length") o.padding = PaddingStrategy::MaxLength;
  else ACCENT_CHECK(options.padding == "do_not_pad", "padding: expected do_not_pad, longest or max_length, got '",
                    options.padding, "'");
  std::vector<Encoding> out;
  for (accent::Encoding& e : impl_->tokenizer.encode_batch(inputs, o))
    out.push_back(Encoding{std::move(e.ids), std::move(e.attention_mask), std::move(e.type_ids), std::move(e.tokens)});
  return out;
}

std::string Tokenizer::id_to_token(int32_t id) const { return impl_->tokenizer.id_to_token(id); }
int64_t Tokenizer::vocab_size() const { return impl_->tokenizer.vocab_size(); }

// ---- train ----

TrainOutput train(const TrainSetup& setup, const api::TrainingArguments& a,
                  const std::function<void(const TrainLog&)>& on_log, const std::function<void(int64_t)>& on_step) {
  ModelArguments model_args;
  model_args.model = setup.model;
  model_args.offline = setup.offline;
  DataArguments data;
  data.train_file = setup.train_file;
  data.validation_file = setup.validation_file;
  data.validation_split = setup.validation_split;
  data.read.text_column = setup.text_column;
  data.read.text_pair_column = setup.text_pair_column;
  data.read.label_column = setup.label_column;
  data.max_length = setup.max_length;
  accent::TrainingArguments args;
  args.output_dir = a.output_dir;
  args.learning_rate = a.learning_rate;
  args.num_train_epochs = a.num_train_epochs;
  args.per_device_train_batch_size = a.per_device_train_batch_size;
  args.per_device_eval_batch_size = a.per_device_eval_batch_size;
  args.warmup_steps = a.warmup_steps;
  args.warmup_ratio = a.warmup_ratio;
  args.weight_decay = a.weight_decay;
  args.max_grad_norm = a.max_grad_norm;
  args.seed = a.seed;
  args.max_steps = a.max_steps;
  args.gradient_accumulation_steps = a.gradient_accumulation_steps;
  args.lr_scheduler_type = a.lr_scheduler_type;
  args.logging_steps = a.logging_steps;
  args.eval_strategy = a.eval_strategy;
  args.save_strategy = a.save_strategy;
  args.save_steps = a.save_steps;
  args.overwrite_output_dir = a.overwrite_output_dir;
  args.progress = a.progress;
  args.report_to = a.report_to;
  args.logging_dir = a.logging_dir;

  FinetuneHooks hooks;
  hooks.on_step_end = on_step;
  if (on_log) {
    hooks.on_log = [&on_log](const nlohmann::json& entry) {
      TrainLog log;
      for (const auto& [key, value] : entry.items()) {
        if (key == "step") log.step = value.get<int64_t>();
        else if (key == "epoch") log.epoch = value.get<double>();
        else if (value.is_number()) log.values[key] = value.get<double>();
      }
      on_log(log);
    };
  }
  const FinetuneResult r = run_finetune(model_args, data, args, hooks);
  TrainOutput out;
  out.global_step = r.train.global_step;
  out.training_loss = r.train.training_loss;
  out.output_dir = r.output_dir;
  if (r.eval)
    for (const auto& [key, value] : r.eval->metrics.items())
      if (value.is_number()) out.eval_metrics[key] = value.get<double>();
  return out;
}

}  // namespace accent::api
