#include "models/registry.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <sstream>

#include "core/error.h"
#include "io/safetensors.h"
#include "models/checkpoint_tensors.h"
#include "models/classification_loss.h"
#include "models/encoder_classifier.h"
#include "models/decoder_classifier.h"
#include "models/gpt2_classifier.h"
#include "models/deberta_classifier.h"
#include "models/modernbert_classifier.h"
#include "models/int8_quantization.h"
#include "models/model_size.h"
#include "models/weight_loading.h"

namespace accent {

namespace {

// Python's repr of a list of strings, as transformers prints key lists.
std::string python_list(const std::vector<std::string>& items) {
  std::ostringstream os;
  os << "[";
  for (size_t i = 0; i < items.size(); ++i) os << (i ? ", " : "") << "'" << items[i] << "'";
  os << "]";
  return os.str();
}

std::string python_shape(const Shape& s) {
  std::ostringstream os;
  os << "torch.Size([";
  for (size_t i = 0; i < s.size(); ++i) os << (i ? ", " : "") << s[i];
  os << "])";
  return os.str();
}

void print_warnings(const LoadReport& r, const std::string& dir) {
  const std::string& cls = r.architecture;
  if (!r.unexpected_keys.empty()) {
    std::cerr << "Some weights of the model checkpoint at " << dir << " were not used when initializing " << cls << ": "
              << python_list(r.unexpected_keys) << "\n- This IS expected if you are initializing " << cls
              << " from the checkpoint of a model trained on another task or with another architecture (e.g. "
                 "initializing a BertForSequenceClassification model from a BertForPreTraining model).\n- This IS NOT "
                 "expected if you are initializing "
              << cls << " from the checkpoint of a model that you expect to be exactly identical.\n";
  }
  if (!r.missing_keys.empty()) {
    std::cerr << "Some weights of " << cls << " were not initialized from the model checkpoint at " << dir
              << " and are newly initialized: " << python_list(r.missing_keys) << "\n";
  }
  if (!r.mismatched_keys.empty()) {
    std::cerr << "Some weights of " << cls << " were not initialized from the model checkpoint at " << dir
              << " and are newly initialized because the shapes did not match:\n";
    for (const auto& m : r.mismatched_keys)
      std::cerr << "- " << m.name << ": found shape " << python_shape(m.checkpoint_shape) << " in the checkpoint and "
                << python_shape(m.model_shape) << " in the model instantiated\n";
  }
  if (!r.missing_keys.empty() || !r.mismatched_keys.empty())
    std::cerr << "You should probably TRAIN this model on a down-stream task to be able to use it for predictions and "
                 "inference.\n";
}

const char* const kSupportedFamilies[] = {"bert",       "roberta", "xlm-roberta", "electra",
                                           "distilbert", "gpt2",    "qwen2",       "llama",
                                           "modernbert", "deberta-v2"};

bool any_architecture_starts_with(const ModelConfig& c, const std::string& prefix) {
  return std::any_of(c.architectures.begin(), c.architectures.end(),
                     [&](const std::string& a) { return a.rfind(prefix, 0) == 0; });
}

}  // namespace

std::string sequence_classifier_family(const ModelConfig& config, const std::string& origin) {
  std::string family = config.model_type;
  if (family.empty()) {
    if (any_architecture_starts_with(config, "Bert")) family = "bert";
    else if (any_architecture_starts_with(config, "XLMRoberta")) family = "xlm-roberta";
    else if (any_architecture_starts_with(config, "Roberta")) family = "roberta";
    else if (any_architecture_starts_with(config, "DistilBert")) family = "distilbert";
    else if (any_architecture_starts_with(config, "GPT2")) family = "gpt2";
    else if (any_architecture_starts_with(config, "Electra")) family = "electra";
    else if (any_architecture_starts_with(config, "Qwen2")) family = "qwen2";
    else if (any_architecture_starts_with(config, "Llama")) family = "llama";
    else if (any_architecture_starts_with(config, "ModernBert")) family = "modernbert";
    else if (any_architecture_starts_with(config, "DebertaV2")) family = "deberta-v2";
  }
  for (const char* supported : kSupportedFamilies)
    if (family == supported) return family;
  std::string list;
  for (const char* supported : kSupportedFamilies) list += (list.empty() ? "" : ", ") + std::string(supported);
  fail(origin, ": cannot tell the model family or it is not supported (model_type \"", config.model_type,
       "\"); supported: ", list);
}

namespace {

// The model for `config` (zero weights), by family, with the head of `task`.
std::unique_ptr<SequenceClassifier> build_model(const std::string& family, ModelConfig config, ModelTask task,
                                                const std::string& origin) {
  check_model_size(config, origin);  // before the arenas sized from it are allocated
  auto encoder = [&](EncoderFamily f) { return std::make_unique<EncoderClassifier>(f, std::move(config), task, origin); };
  if (family == "bert") return encoder(EncoderFamily::Bert);
  if (family == "roberta") return encoder(EncoderFamily::Roberta);
  if (family == "xlm-roberta") return encoder(EncoderFamily::XlmRoberta);
  if (family == "electra") return encoder(EncoderFamily::Electra);
  if (family == "distilbert") return encoder(EncoderFamily::DistilBert);
  if (family == "gpt2") return std::make_unique<Gpt2Classifier>(std::move(config), task, origin);
  if (family == "qwen2" || family == "llama") return std::make_unique<DecoderClassifier>(std::move(config), task, origin);
  if (family == "modernbert") return std::make_unique<ModernBertClassifier>(std::move(config), task, origin);
  if (family == "deberta-v2") return std::make_unique<DebertaClassifier>(std::move(config), task, origin);
  fail(origin, ": model family \"", family, "\" has no implementation");
}

}  // namespace

std::unique_ptr<SequenceClassifier> load_sequence_classifier(const std::string& dir, const LoadOptions& options,
                                                             LoadReport* report) {
  const std::string config_path = (std::filesystem::path(dir) / "config.json").string();
  ACCENT_CHECK(std::filesystem::exists(config_path), dir, ": no config.json (is this a Hugging Face model directory?)");
  ModelConfig config = load_config(config_path);
  sequence_classifier_family(config, config_path);
  if (options.labels) {
    ACCENT_CHECK(!options.labels->empty(), "load options: labels is empty");
    config.set_labels(*options.labels);
  } else if (options.num_labels) {
    ACCENT_CHECK(*options.num_labels >= 1, "load options: num_labels must be at least 1, got ", *options.num_labels);
    if (*options.num_labels != config.num_labels()) config.set_num_labels(*options.num_labels);
  }
  if (options.problem_type) {
    problem_type_from_name(*options.problem_type);
    config.problem_type = options.problem_type;
  }
  // An `accent quantize` directory: its body layers are stored int8 (models/int8_quantization.h).
  const std::vector<std::string> int8_modules = int8_modules_of(config, config_path);
  // Weights: model.safetensors (or its index) wins over pytorch_model.bin (or its index), as in transformers.
  const CheckpointTensors checkpoint = CheckpointTensors::open_dir(dir);
  const std::string family = sequence_classifier_family(config, config_path);
  const ModelTask task = options.task.value_or(task_from_architectures(config));
  const bool file_has_pad = config.pad_token_id.has_value();
  std::unique_ptr<SequenceClassifier> model = build_model(family, std::move(config), task, config_path);
  LoadReport local;
  LoadReport& r = report ? *report : local;
  r = LoadReport{};
  {
    auto* family_model = dynamic_cast<TransformerClassifier*>(model.get());
    ACCENT_CHECK(family_model != nullptr, "internal: ", family, " model is not a TransformerClassifier");
    r.architecture = family_model->architecture();
    if (options.pad_token_id && !file_has_pad) family_model->set_pad_token_id(*options.pad_token_id);
    WeightLoadSpec spec;
    spec.base_prefix = family_model->base_prefix();
    spec.word_embeddings = family_model->word_embeddings_name();
    spec.vocab_size = family_model->vocab_size();
    spec.hidden_size = family_model->hidden_size();
    spec.init = [family_model](Parameter& p, const Rng& rng) { family_model->init_parameter(p, rng); };
    // *ForTokenClassification / *ForQuestionAnswering have no pooler: transformers ignores a checkpoint's pooler
    // silently (_keys_to_ignore_on_load_unexpected = [r"pooler"]).
    if (task != ModelTask::SequenceClassification) spec.ignore_unexpected = {"pooler"};
    if (!int8_modules.empty()) spec.ignore_unexpected.push_back(".weight_scale");  // read by load_int8_weights
    load_weights(family_model->parameters(), checkpoint, dir, spec, options, r);
    load_int8_weights(*model, checkpoint, int8_modules, dir);  // the I8 weights, read above as numbers, replaced
  }
  if (options.print_warnings) print_warnings(r, dir);
  if (options.require_all_weights && (!r.missing_keys.empty() || !r.mismatched_keys.empty())) {
    std::vector<std::string> absent = r.missing_keys;
    for (const MismatchedKey& m : r.mismatched_keys) absent.push_back(m.name);
    const size_t total = model->parameters().size();
    fail(dir, ": ", absent.size() == total ? "the checkpoint holds none of the model's weights"
                                            : std::to_string(absent.size()) + " of the model's " +
                                                  std::to_string(total) + " weight tensors are missing from the checkpoint",
         " (first: ", absent.front(), "); predicting or evaluating needs a fine-tuned model with every weight — "
         "fine-tune it with `accent train` first");
  }
  // A NaN or inf weight makes every answer NaN ("score": null): refuse the file instead, naming the tensor.
  for (const Parameter* p : model->parameters()) {
    const float* v = p->value.f32();
    for (int64_t i = 0, n = p->value.numel(); i < n; ++i)
      ACCENT_CHECK(std::isfinite(v[i]), dir, ": weight ", p->name, " holds a non-finite value (", v[i], " at index ",
                   i, "); the checkpoint is corrupt");
  }
  return model;
}

bool has_model_weights(const std::string& dir) {
  for (const char* name : {"model.safetensors", "model.safetensors.index.json", "pytorch_model.bin",
                           "pytorch_model.bin.index.json"})
    if (std::filesystem::exists(std::filesystem::path(dir) / name)) return true;
  return false;
}

std::unique_ptr<SequenceClassifier> create_sequence_classifier(const ModelConfig& config, uint64_t seed,
                                                               std::optional<ModelTask> task) {
  const std::string family = sequence_classifier_family(config, "config");
  std::unique_ptr<SequenceClassifier> model =
      build_model(family, config, task.value_or(task_from_architectures(config)), "config");
  dynamic_cast<TransformerClassifier&>(*model).init_weights(seed);
  return model;
}

void save_pretrained(const SequenceClassifier& model, const std::string& dir) { model.save_pretrained(dir); }

}  // namespace accent
