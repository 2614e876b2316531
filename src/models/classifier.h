// models/classifier.h — what the trainer and the pipelines need from any model: *ForSequenceClassification and the
// other heads of models/model_task.h (the interface keeps its first name).
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "core/rng.h"
#include "core/tensor.h"
#include "core/error.h"
#include "data/batch.h"
#include "io/config.h"
#include "models/gpt2_conv1d.h"
#include "models/model_task.h"
#include "nn/linear.h"
#include "nn/parameter.h"
#include "ops/backend.h"

namespace accent {

struct ForwardResult {
  Tensor logits;      // (B, C) F32; (B, T, C) token classification, (B, T, 2) question answering
  float loss = 0.0f;  // mean loss (0 when the batch has no labels)
  bool has_loss = false;
};

// A Linear module of a model with its Hugging Face module name ("bert.encoder.layer.0.attention.self.query"):
// either an nn.Linear or a GPT-2 Conv1D (weight stored (in, out); PEFT wraps it with fan_in_fan_out = True).
struct NamedLinear {
  std::string name;
  Linear* linear = nullptr;
  Conv1D* conv1d = nullptr;  // set instead of `linear` for GPT-2's Conv1D
  bool head = false;         // part of the task head (pooler, classifier, score), not of the transformer body

  bool is_conv1d() const { return conv1d != nullptr; }
  int64_t in_features() const { return conv1d ? conv1d->in_features() : linear->in_features(); }
  int64_t out_features() const { return conv1d ? conv1d->out_features() : linear->out_features(); }
  LoraAdapter*& lora() const { return conv1d ? conv1d->lora : linear->lora; }
  Parameter& weight() const { return conv1d ? conv1d->weight : linear->weight; }
  // The bias parameter, or null when the module has none.
  Parameter* bias() const { return conv1d ? &conv1d->bias : (linear->has_bias() ? &linear->bias : nullptr); }
  // Dynamic int8 inference (nn/int8_weight.h): the weight is stored (out, in) for a Linear, (in, out) for Conv1D.
  bool weight_out_major() const { return conv1d == nullptr; }
  const Int8Weight& int8_weight() const { return conv1d ? conv1d->int8_weight() : linear->int8_weight(); }
  void set_int8_weight(Int8Weight w) const {
    conv1d ? conv1d->set_int8_weight(std::move(w)) : linear->set_int8_weight(std::move(w));
  }
};

class SequenceClassifier {
 public:
  virtual ~SequenceClassifier() = default;

  // All parameters in Hugging Face state-dict order (names as save_pretrained writes them).
  virtual ParameterList parameters() = 0;
  virtual int64_t num_labels() const = 0;
  virtual ProblemType problem_type() const = 0;

  // Inference: no dropout, nothing stored for backward.
  virtual ForwardResult forward(const Batch& batch) = 0;
  // Training: forward with dropout drawn from `dropout_rng` (advanced), loss from the batch labels, then backward;
  // parameter gradients accumulate (+=) into Parameter::grad. Returns logits and loss.
  virtual ForwardResult forward_backward(const Batch& batch, Rng& dropout_rng) = 0;

  // --- Optional capabilities (defaults for models that do not have them, e.g. test doubles) ---
  // The head (what the logits mean).
  virtual ModelTask task() const { return ModelTask::SequenceClassification; }
  // The model's config.json (labels; problem_type once set or inferred). nullptr when the model has none.
  virtual const ModelConfig* config() const { return nullptr; }
  // Fixes problem_type (stored in the config, so save_pretrained writes it).
  virtual void set_problem_type(ProblemType) { fail("this model does not support setting problem_type"); }
  // Writes config.json + model.safetensors (Hugging Face layout, each file atomically) into `dir`.
  virtual void save_pretrained(const std::string& dir) const { fail("this model cannot be saved (", dir, ")"); }
  // Which op implementations run (Backend::Cpu by default; Backend::Ref is the slow oracle used by tests).
  // With a context of another memory (Backend::Cuda), the parameters move there (see TransformerClassifier).
  virtual void set_op_context(const OpContext&) {}
  virtual OpContext op_context() const { return OpContext{}; }
  // Every Linear of the model (for LoRA, models/peft_adapter.h), in state-dict order, the head last. Empty when
  // the model does not expose them (then LoRA cannot wrap it).
  virtual std::vector<NamedLinear> linear_modules() { return {}; }
  // Data-parallel training: `hook` is called during forward_backward each time a module's parameter gradients are
  // final (the head, then each layer from the top). A model without it reports nothing: the reducer then reduces
  // everything after backward (correct, without overlap). An empty hook turns reporting off.
  virtual void set_grad_ready_hook(GradReadyHook) {}
};

}  // namespace accent
