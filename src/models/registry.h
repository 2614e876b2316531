// models/registry.h — from_pretrained / save_pretrained by model family, for every head of models/model_task.h
// (sequence classification, token classification, question answering).
//
// The family is chosen from config.json's model_type (or architectures when model_type is missing): bert,
// roberta / xlm-roberta / electra / distilbert (encoder_classifier.h), gpt2
// (gpt2_classifier.h), qwen2 / llama (decoder_classifier.h), modernbert (modernbert_classifier.h). Weights come from
// model.safetensors (or its sharded index), else pytorch_model.bin (or its index) — models/checkpoint_tensors.h.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "io/config.h"
#include "models/classifier.h"
#include "models/model_task.h"

namespace accent {

struct LoadOptions {
  // Labels for a new head, in id order (sets id2label/label2id and num_labels), or just a count (LABEL_i).
  std::optional<std::vector<std::string>> labels;
  std::optional<int64_t> num_labels;
  // "regression" / "single_label_classification" / "multi_label_classification" (overrides config.json).
  std::optional<std::string> problem_type;
  // Like from_pretrained(..., ignore_mismatched_sizes=True): a checkpoint tensor whose shape differs from the
  // model's (typically a classifier head with another num_labels) is skipped and freshly initialised.
  bool ignore_mismatched_sizes = false;
  // Seed of the Rng that initialises parameters missing from the checkpoint (a new head).
  uint64_t seed = 42;
  // Print transformers-style warnings about missing / unexpected / mismatched keys to stderr.
  bool print_warnings = true;
  // The head to build (a base checkpoint gets a new one, as AutoModelFor<Task>.from_pretrained does); default:
  // what config.json's architectures name (models/model_task.h), sequence classification for a base model.
  std::optional<ModelTask> task;
  // For predict/evaluate of a fine-tuned model: every parameter must come from the checkpoint. Randomly
  // initialised weights are right when a base model gets a new head for training, wrong when answering with it
  // (an empty model.safetensors used to load as an all-random model with only a warning).
  bool require_all_weights = false;
  // HF's fine-tuning recipe for a checkpoint whose config.json has no pad_token_id (GPT-2, Qwen2.5, Llama-3):
  // model.config.pad_token_id = tokenizer.pad_token_id. The families that pool the last non-pad token then pool by
  // this id (the one batches are padded with), and save it in config.json. Ignored when the file has one.
  std::optional<int64_t> pad_token_id;
};

struct MismatchedKey {
  std::string name;       // model parameter name
  Shape checkpoint_shape;
  Shape model_shape;
};

struct LoadReport {
  std::string architecture;                  // the class that was built, e.g. "BertForSequenceClassification"
  std::vector<std::string> missing_keys;     // model parameters absent from the checkpoint (newly initialised)
  std::vector<std::string> unexpected_keys;  // checkpoint tensors the model does not use (e.g. cls.predictions.*)
  std::vector<MismatchedKey> mismatched_keys;  // skipped because of ignore_mismatched_sizes (newly initialised)
  std::vector<std::string> ignored_buffers;  // non-parameter buffers dropped silently (embeddings.position_ids ...)
};

// Loads a *ForSequenceClassification model from a Hugging Face directory (config.json + model.safetensors, a
// sharded model.safetensors.index.json, pytorch_model.bin or pytorch_model.bin.index.json). Any BERT checkpoint works: BertForPreTraining / BertForMaskedLM /
// BertModel / BertForSequenceClassification, legacy LayerNorm.gamma/beta names, with or without the "bert."
// prefix. `report` (optional) receives what from_pretrained would warn about.
std::unique_ptr<SequenceClassifier> load_sequence_classifier(const std::string& dir, const LoadOptions& options = {},
                                                             LoadReport* report = nullptr);
// Whether `dir` holds weights in a format from_pretrained reads (model.safetensors or pytorch_model.bin, either
// possibly sharded with an index). A config-only directory describes a model to train from scratch.
bool has_model_weights(const std::string& dir);

// A randomly initialised model (HF _init_weights) for `config`, deterministic in `seed`, with the head of `task`
// (default: what config.architectures names).
std::unique_ptr<SequenceClassifier> create_sequence_classifier(const ModelConfig& config, uint64_t seed,
                                                               std::optional<ModelTask> task = std::nullopt);
// config.json + model.safetensors into `dir` (each file written atomically).
void save_pretrained(const SequenceClassifier& model, const std::string& dir);

// The family name ("bert", ...) a config belongs to; throws for unknown or not-yet-supported families.
std::string sequence_classifier_family(const ModelConfig& config, const std::string& origin);

}  // namespace accent
