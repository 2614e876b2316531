#include "models/transformer_classifier.h"

#include <cstdlib>
#include <filesystem>
#include <optional>

#include "io/safetensors.h"
#include "models/classification_loss.h"
#include "models/int8_quantization.h"
#include "models/token_task_losses.h"
#include "nn/lora.h"
#include "nn/parameter_init.h"
#include "nn/parameter_placement.h"
#include "ops/attention_softmax.h"
#include "ops/memory.h"

namespace accent {

void check_batch_shape(const Batch& batch) {
  const size_t n = static_cast<size_t>(batch.B * batch.T);
  ACCENT_CHECK(batch.B > 0 && batch.T > 0, "batch: B and T must be positive, got B=", batch.B, " T=", batch.T);
  ACCENT_CHECK(batch.input_ids.size() == n, "batch: input_ids has ", batch.input_ids.size(), " values, expected B×T = ",
               batch.B, "×", batch.T);
  ACCENT_CHECK(batch.token_type_ids.empty() || batch.token_type_ids.size() == n, "batch: token_type_ids has ",
               batch.token_type_ids.size(), " values, expected B×T = ", n, " (or none)");
  ACCENT_CHECK(batch.attention_mask.empty() || batch.attention_mask.size() == n, "batch: attention_mask has ",
               batch.attention_mask.size(), " values, expected B×T = ", n, " (or none)");
}

namespace {

// LoRA's dropout draws over the rows its adapter sees (nn/lora.h), not over padded rows: a training forward with
// an active LoRA dropout runs padded, so its masks stay the padded path's and data-parallel ranks stay in step.
bool has_active_lora_dropout(SequenceClassifier& model) {
  for (const NamedLinear& m : model.linear_modules())
    if (m.lora() && m.lora()->hyper().dropout > 0) return true;
  return false;
}

}  // namespace

TransformerClassifier::TransformerClassifier(ModelConfig config, ModelTask task) : config_(std::move(config)), task_(task) {
  const char* unpadded = std::getenv("ACCENT_UNPADDED");
  if (unpadded && std::string(unpadded) == "0") unpadded_ = false;
  if (config_.problem_type) problem_type_from_name(*config_.problem_type);  // validates the spelling early
  ACCENT_CHECK(task_ != ModelTask::QuestionAnswering || config_.num_labels() == 2,
               "question answering needs num_labels 2 (start and end logits), the config has ", config_.num_labels());
}

int64_t TransformerClassifier::logits_count(int64_t B, int64_t T) const {
  switch (task_) {
    case ModelTask::SequenceClassification: return B * num_labels();
    case ModelTask::TokenClassification: return B * T * num_labels();
    case ModelTask::QuestionAnswering: return B * T * 2;
  }
  return 0;
}

void TransformerClassifier::set_grad_ready_hook(GradReadyHook hook) { grad_ready_hook_ = std::move(hook); }

void TransformerClassifier::set_op_context(const OpContext& ctx) {
  move_parameters(parameters(), memory_for(ctx));
  ctx_ = ctx;
}

ParameterList TransformerClassifier::parameters() {
  ParameterList out;
  collect(out);
  return out;
}

ProblemType TransformerClassifier::problem_type() const {
  if (config_.problem_type) return problem_type_from_name(*config_.problem_type);
  return num_labels() == 1 ? ProblemType::Regression : ProblemType::SingleLabel;
}

void TransformerClassifier::set_problem_type(ProblemType type) { config_.problem_type = problem_type_name(type); }

void TransformerClassifier::init_standard(Parameter& p, const Rng& rng, float stddev, bool is_norm,
                                          int64_t padding_row) {
  const bool is_bias = p.name.size() >= 5 && p.name.compare(p.name.size() - 5, 5, ".bias") == 0;
  if (is_norm) {
    init_constant(p, is_bias ? 0.0f : 1.0f);
  } else if (is_bias) {
    init_constant(p, 0.0f);
  } else {
    init_normal(p, stddev, rng);
    if (padding_row >= 0) zero_row(p, padding_row);
  }
}

void TransformerClassifier::set_pad_token_id(int64_t id) {
  ACCENT_CHECK(id >= 0 && id < vocab_size(), "pad_token_id ", id, " is outside the vocabulary (vocab_size ",
               vocab_size(), ")");
  config_.pad_token_id = id;
  pad_token_id_changed();
}

void TransformerClassifier::init_weights(uint64_t seed) {
  const Rng root(seed);
  ParameterList params = parameters();
  for (size_t i = 0; i < params.size(); ++i) init_parameter(*params[i], root.fork(i));
}

ForwardResult TransformerClassifier::forward(const Batch& batch) {
  std::optional<InferenceScratch> shared_layer_buffers;
  if (!keep_layer_activations_) shared_layer_buffers.emplace();
  return run(batch, nullptr, false);
}

ForwardResult TransformerClassifier::forward_backward(const Batch& batch, Rng& dropout_rng) {
  ACCENT_CHECK(batch_has_labels(batch),
               "forward_backward needs labels in the batch (class, float or token labels, or answer positions)");
  return run(batch, &dropout_rng, true);
}

ForwardResult TransformerClassifier::run(const Batch& batch, Rng* rng, bool with_backward) {
  check_batch_shape(batch);
  const int64_t B = batch.B, T = batch.T, C = num_labels();
  const ScratchPlacement placement(memory_for(ctx_));  // every module's scratch in the memory ctx_'s ops read
  const float* mask_add = nullptr;
  if (!batch.attention_mask.empty()) {
    mask_add_host_.resize(static_cast<size_t>(B * T));
    attention_additive_mask(batch.attention_mask.data(), mask_add_host_.data(), B, T);
    float* m = mask_add_.f32(B * T);
    copy_from_host(ctx_, m, mask_add_host_.data(), mask_add_host_.size() * sizeof(float));
    mask_add = m;
  }
  ForwardResult result;
  const int64_t n = logits_count(B, T);
  switch (task_) {
    case ModelTask::SequenceClassification: result.logits = Tensor(DType::F32, {B, C}); break;
    case ModelTask::TokenClassification: result.logits = Tensor(DType::F32, {B, T, C}); break;
    case ModelTask::QuestionAnswering: result.logits = Tensor(DType::F32, {B, T, 2}); break;
  }
  float* logits = logits_.f32(n);
  packing_ = nullptr;
  head_rows_ = nullptr;
  if (unpadded_ && task_ == ModelTask::SequenceClassification && ctx_.backend != Backend::Cuda &&
      !(rng && has_active_lora_dropout(*this))) {
    const std::vector<int64_t> heads = head_positions(batch);
    packing_ = packer_.pack(ctx_, batch.attention_mask, B, T, heads);
    if (computes_head_rows_only()) head_rows_ = packer_.head_rows(ctx_, heads, attention_heads());
  }
  forward_logits(batch, mask_add, logits, rng);
  copy_to_host(ctx_, result.logits.f32(), logits, static_cast<size_t>(n) * sizeof(float));
  if (!batch_has_labels(batch)) return result;

  float* dlogits = with_backward ? dlogits_.f32(n) : nullptr;
  switch (task_) {
    case ModelTask::SequenceClassification: {
      const ProblemType type = resolve_problem_type(config_.problem_type, C, batch);
      if (!config_.problem_type) config_.problem_type = problem_type_name(type);
      result.loss = classification_loss(ctx_, type, logits, batch, C, dlogits, labels_);
      break;
    }
    case ModelTask::TokenClassification:
      result.loss = token_classification_loss(ctx_, logits, batch, C, dlogits, labels_);
      break;
    case ModelTask::QuestionAnswering:
      result.loss = question_answering_loss(ctx_, logits, batch, dlogits);
      break;
  }
  result.has_loss = true;
  if (with_backward) backward_logits(batch, dlogits);
  return result;
}

void TransformerClassifier::backward_from_logits(const Batch& batch, const float* dlogits) {
  check_batch_shape(batch);
  const ScratchPlacement placement(memory_for(ctx_));
  const int64_t n = logits_count(batch.B, batch.T);
  float* d = dlogits_.f32(n);
  copy_from_host(ctx_, d, dlogits, static_cast<size_t>(n) * sizeof(float));
  backward_logits(batch, d);
}

void TransformerClassifier::save_pretrained(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ACCENT_CHECK(!ec, dir, ": cannot create the output directory (", ec.message(), ")");
  auto& self = const_cast<TransformerClassifier&>(*this);
  NamedTensors tensors;
  for (Parameter* p : self.parameters()) tensors.emplace_back(p->name, p->value);
  // int8 layers (models/int8_quantization.h): the I8 weight in place of the fp32 one, its scales beside it.
  std::vector<std::string> int8_modules;
  for (const NamedLinear& m : self.linear_modules()) {
    if (m.int8_weight().empty()) continue;
    int8_modules.push_back(m.name);
    for (auto& [name, tensor] : tensors)
      if (name == m.weight().name) tensor = m.int8_weight().values();
    tensors.emplace_back(int8_scale_name(m.name), m.int8_weight().scales());
  }
  // Weights first, config last (each atomic): a directory whose config.json is new has the weights it describes.
  save_safetensors_checkpoint(dir, tensors);
  ModelConfig out = config_;
  out.architectures = {architecture()};
  set_int8_modules(out, int8_modules);
  save_config((std::filesystem::path(dir) / "config.json").string(), out);
}

float* TransformerClassifier::padded_rows(float* rows, ScratchBuffer& padded, int64_t B, int64_t T, int64_t H) {
  if (!packing_) return rows;
  float* out = padded.f32(B * T * H);
  unpack_rows(ctx_, packing_, rows, out, B, T, H);
  return out;
}

}  // namespace accent
