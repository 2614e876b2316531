// serve/text_classification.h — pipeline("text-classification") in C++: a saved model directory (or hub id) in,
// [{"label": ..., "score": ...}] per input out (spec: the shared spec, spec/pipeline.md §3).
//
// Like HF, inputs are tokenized with no truncation unless asked (an input longer than the model's positions is a
// clear error that suggests --truncation). Unlike HF's one-at-a-time loop, inputs run in batches sorted by length
// (no dropout, no activations kept); padding is masked out, so each input's scores are its own.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "data/batcher.h"
#include "io/config.h"
#include "models/classifier.h"
#include "serve/scores.h"
#include "text/tokenizer.h"

namespace accent {

struct PipelineOptions {
  FunctionToApply function_to_apply = FunctionToApply::Default;
  TopK top_k;                        // Legacy: the best label only
  bool truncation = false;           // truncate to max_length (default: the model's positions)
  Side truncation_side = Side::Right;  // which end truncation cuts (TEI's truncation_direction)
  std::optional<int64_t> max_length;
  int64_t batch_size = 32;
  int64_t first_input_number = 1;    // the number of inputs[0] in error messages (a caller streaming batches)
  std::string truncation_advice = "pass --truncation to cut it";  // ends the error of an input over the positions
};

using TextInput = std::pair<std::string, std::optional<std::string>>;  // text, optional text_pair

class TextClassificationPipeline {
 public:
  // A model directory or hub id; the tokenizer is read from the same place. A PEFT LoRA adapter directory
  // (adapter_config.json) is loaded on its base: `base_model` when given, else base_model_name_or_path; the
  // tokenizer then comes from the adapter directory when it has one, else from the base.
  static TextClassificationPipeline from_pretrained(const std::string& path_or_id, bool offline = false,
                                                    const std::string& base_model = "");

  // Raw logits, (N, C) row-major, in input order: encode() each input, then logits_of_encoded().
  std::vector<float> logits(const std::vector<TextInput>& inputs, const PipelineOptions& options);
  // One input tokenized as the pipeline feeds it to the model (truncated per `options`); an input longer than the
  // model's positions is an error naming it as input `number`. Thread-safe (the tokenizer is const).
  EncodedExample encode(const TextInput& input, const PipelineOptions& options, int64_t number) const;
  // Raw logits (N, C) of encoded inputs, in their order: batches of `batch_size` sorted by length, padding masked,
  // so each row's logits are its own. Non-finite logits are an error naming input first_number + i.
  // Not thread-safe (one forward at a time per model).
  // pad_to_length > 0 pads every batch to at least that many tokens (masked; see serve/batch_scheduler.h).
  std::vector<float> logits_of_encoded(const std::vector<EncodedExample>& examples, int64_t batch_size,
                                       int64_t first_number = 1, int64_t pad_to_length = 0);
  // The most tokens (special tokens included) an input should have: the model's positions, or the tokenizer's
  // model_max_length when smaller (RoBERTa: 514 positions, 512 tokens — its position ids start at 2).
  int64_t max_input_tokens() const {
    return std::min<int64_t>(config().max_position_embeddings, tokenizer_->model_max_length());
  }
  // Scored labels per input.
  std::vector<std::vector<LabelScore>> operator()(const std::vector<TextInput>& inputs, const PipelineOptions& options);

  const ModelConfig& config() const;
  const Tokenizer& tokenizer() const { return *tokenizer_; }
  SequenceClassifier& model() { return *model_; }

 private:
  std::shared_ptr<Tokenizer> tokenizer_;
  std::shared_ptr<SequenceClassifier> model_;
};

}  // namespace accent
