#include "serve/text_classification.h"

#include <cmath>
#include <filesystem>

#include "core/error.h"
#include "io/hub.h"
#include "models/peft_adapter.h"
#include "models/int8_quantization.h"
#include "models/registry.h"

namespace accent {

TextClassificationPipeline TextClassificationPipeline::from_pretrained(const std::string& path_or_id, bool offline,
                                                                     const std::string& base_model) {
  HubOptions hub = HubOptions::from_env();
  if (offline) hub.offline = true;
  const std::string dir = resolve_pretrained(path_or_id, default_pretrained_files(), hub);
  TextClassificationPipeline p;
  if (is_adapter_dir(dir)) {
    const std::string base = resolve_adapter_base(dir, base_model, offline);
    const bool own_tokenizer = std::filesystem::exists(std::filesystem::path(dir) / "tokenizer.json") ||
                               std::filesystem::exists(std::filesystem::path(dir) / "vocab.txt");
    p.tokenizer_ = std::make_shared<Tokenizer>(Tokenizer::from_pretrained(own_tokenizer ? dir : base));
    p.model_ = load_lora_model(dir, base);
    prepare_for_inference(*p.model_);  // pipeline(device=...), --precision int8
    return p;
  }
  p.tokenizer_ = std::make_shared<Tokenizer>(Tokenizer::from_pretrained(dir));
  LoadOptions load;
  load.print_warnings = true;
  load.require_all_weights = true;  // answering with random weights is never right
  p.model_ = load_sequence_classifier(dir, load);
  ACCENT_CHECK(p.model_->config() != nullptr, dir, ": the model has no config");
  // As train checks it: an id past the embedding rows was an index error deep in the forward pass.
  ACCENT_CHECK(p.tokenizer_->vocab_size() <= p.model_->config()->vocab_size, dir, ": the tokenizer has ",
               p.tokenizer_->vocab_size(), " tokens but config.json vocab_size is ", p.model_->config()->vocab_size,
               " (embedding rows); the tokenizer does not belong to this model");
  prepare_for_inference(*p.model_);  // pipeline(device=...), --precision int8
  return p;
}

const ModelConfig& TextClassificationPipeline::config() const { return *model_->config(); }

namespace {

void check_max_length(const PipelineOptions& options, int64_t positions) {
  if (options.max_length && *options.max_length > positions)
    fail("--max-length ", *options.max_length, " is above the model's ", positions,
         " positions (max_position_embeddings); use --max-length ", positions, " or less");
}

}  // namespace

EncodedExample TextClassificationPipeline::encode(const TextInput& input, const PipelineOptions& options,
                                                 int64_t number) const {
  const ModelConfig& cfg = config();
  const int64_t positions = cfg.max_position_embeddings;
  EncodeOptions enc;
  check_max_length(options, positions);
  if (options.truncation) {
    enc.truncation = TruncationStrategy::LongestFirst;
    enc.truncation_side = options.truncation_side;
    enc.max_length = options.max_length.value_or(std::min<int64_t>(positions, tokenizer_->model_max_length()));
  }
  std::optional<std::string_view> pair;
  if (input.second) pair = *input.second;
  Encoding e = tokenizer_->encode(input.first, pair, enc);
  if (static_cast<int64_t>(e.ids.size()) > positions) {
    // With truncation on, the only way here is a max_length above the positions: say that, not "truncate".
    if (options.truncation)
      fail("input ", number, " has ", e.ids.size(), " tokens after truncation to --max-length ", *enc.max_length,
           ", more than the model's ", positions, " positions; use --max-length ", positions, " or less");
    fail("input ", number, " has ", e.ids.size(), " tokens, more than the model's ", positions,
         " positions; ", options.truncation_advice);
  }
  EncodedExample example;
  example.input_ids = std::move(e.ids);
  if (tokenizer_->returns_token_type_ids()) example.token_type_ids = std::move(e.type_ids);
  return example;
}

std::vector<float> TextClassificationPipeline::logits(const std::vector<TextInput>& inputs,
                                                      const PipelineOptions& options) {
  check_max_length(options, config().max_position_embeddings);  // an error even when there is no input
  std::vector<EncodedExample> examples;
  examples.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i)
    examples.push_back(encode(inputs[i], options, options.first_input_number + static_cast<int64_t>(i)));
  return logits_of_encoded(examples, options.batch_size, options.first_input_number);
}

std::vector<float> TextClassificationPipeline::logits_of_encoded(const std::vector<EncodedExample>& examples,
                                                                 int64_t batch_size, int64_t first_number,
                                                                 int64_t pad_to_length) {
  ACCENT_CHECK(model_->task() == ModelTask::SequenceClassification, "this is a ", task_name(model_->task()),
               " model: its pipeline is `accent predict` (entities or answers), not text classification");
  const ModelConfig& cfg = config();
  BatcherOptions bo;
  bo.batch_size = std::max<int64_t>(1, batch_size);
  bo.pad_to_length = pad_to_length;
  bo.pad_id = tokenizer_->pad_token_id().value_or(cfg.pad_token_id.value_or(0));
  Batcher batcher(examples, bo);
  const auto batches = batcher.eval_batches();
  const int64_t C = cfg.num_labels();
  std::vector<float> out(examples.size() * static_cast<size_t>(C));
  for (const auto& rows : batches) {
    ForwardResult r = model_->forward(batcher.collate(rows));
    const float* l = r.logits.f32();
    for (size_t b = 0; b < rows.size(); ++b) {
      // Non-finite logits would print as "score": null with success; say which input instead.
      for (int64_t c = 0; c < C; ++c)
        ACCENT_CHECK(std::isfinite(l[b * C + c]), "input ", first_number + static_cast<int64_t>(rows[b]),
                     ": the model's logits are not finite (",
                     l[b * C + c], "); its weights or config are broken");
      std::copy(l + b * C, l + (b + 1) * C, out.begin() + rows[b] * C);
    }
  }
  return out;
}

std::vector<std::vector<LabelScore>> TextClassificationPipeline::operator()(const std::vector<TextInput>& inputs,
                                                                            const PipelineOptions& options) {
  const ModelConfig& cfg = config();
  const int64_t C = cfg.num_labels();
  const FunctionToApply fn = resolve_function_to_apply(options.function_to_apply, cfg.problem_type, C);
  std::vector<float> l = logits(inputs, options);
  std::vector<std::vector<LabelScore>> out;
  out.reserve(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) out.push_back(classify_logits(l.data() + i * C, C, cfg.id2label, fn, options.top_k));
  return out;
}

}  // namespace accent
