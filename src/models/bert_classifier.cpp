#include "models/bert_classifier.h"

#include "models/transformer_classifier.h"

#include <filesystem>

#include "io/safetensors.h"
#include "models/classification_loss.h"
#include "nn/parameter_init.h"
#include "ops/attention_softmax.h"
#include "nn/freeze.h"

namespace accent {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

BertForSequenceClassification::BertForSequenceClassification(ModelConfig config, const std::string& origin)
    : config_(std::move(config)),
      dims_(BertDims::from_config(config_, origin)),
      embeddings_(std::string(kBasePrefix) + ".embeddings", dims_),
      encoder_(std::string(kBasePrefix) + ".encoder", dims_),
      head_(std::string(kBasePrefix) + ".pooler", "classifier", dims_) {
  if (config_.problem_type) problem_type_from_name(*config_.problem_type);  // validates the spelling early
}

void BertForSequenceClassification::init_parameter(Parameter& p, const Rng& rng) const {
  const float stddev = static_cast<float>(config_.initializer_range);
  if (ends_with(p.name, "LayerNorm.weight")) {
    init_constant(p, 1.0f);
  } else if (ends_with(p.name, ".bias")) {
    init_constant(p, 0.0f);
  } else {
    init_normal(p, stddev, rng);
    if (&p == &embeddings_.word.weight && dims_.pad >= 0) zero_row(p, dims_.pad);
  }
}

void BertForSequenceClassification::init_weights(uint64_t seed) {
  const Rng root(seed);
  ParameterList params = parameters();
  for (size_t i = 0; i < params.size(); ++i) init_parameter(*params[i], root.fork(i));
}

ParameterList BertForSequenceClassification::parameters() {
  ParameterList out;
  embeddings_.collect(out);
  encoder_.collect(out);
  head_.collect_pooler(out);
  head_.collect_classifier(out);
  return out;
}

std::vector<NamedLinear> BertForSequenceClassification::linear_modules() {
  std::vector<NamedLinear> out;
  auto add = [&](Linear& l) {
    const std::string& w = l.weight.name;  // "<module>.weight"
    out.push_back({w.substr(0, w.size() - 7), &l});
  };
  for (Linear* l : encoder_.linears()) add(*l);
  add(head_.pooler_dense);
  add(head_.classifier);
  return out;
}

ProblemType BertForSequenceClassification::problem_type() const {
  if (config_.problem_type) return problem_type_from_name(*config_.problem_type);
  return dims_.C == 1 ? ProblemType::Regression : ProblemType::SingleLabel;
}

void BertForSequenceClassification::set_problem_type(ProblemType type) { config_.problem_type = problem_type_name(type); }

ForwardResult BertForSequenceClassification::forward(const Batch& batch) { return run(batch, nullptr, false); }

ForwardResult BertForSequenceClassification::forward_backward(const Batch& batch, Rng& dropout_rng) {
  ACCENT_CHECK(batch_has_labels(batch), "forward_backward needs labels in the batch (class_labels or float_labels)");
  return run(batch, &dropout_rng, true);
}

ForwardResult BertForSequenceClassification::run(const Batch& batch, Rng* rng, bool with_backward) {
  check_batch_shape(batch);
  const int64_t B = batch.B, T = batch.T, H = dims_.H, C = dims_.C, n = B * T * H;
  const float* mask_add = nullptr;
  if (!batch.attention_mask.empty()) {
    float* m = mask_add_.f32(B * T);
    attention_additive_mask(batch.attention_mask.data(), m, B, T);
    mask_add = m;
  }
  float* x0 = x0_.f32(n);
  embeddings_.forward(ctx_, batch.input_ids.data(), batch.token_type_ids.empty() ? nullptr : batch.token_type_ids.data(),
                      x0, B, T, rng);
  const float* last = encoder_.forward(ctx_, x0, mask_add, B, T, rng);
  ForwardResult result;
  result.logits = Tensor(DType::F32, {B, C});
  float* logits = result.logits.f32();
  head_.forward(ctx_, last, logits, B, T, rng);
  if (!batch_has_labels(batch)) return result;

  // problem_type null: inferred on the first forward with labels and stored in the config (HF does the same).
  const ProblemType type = resolve_problem_type(config_.problem_type, C, batch);
  if (!config_.problem_type) config_.problem_type = problem_type_name(type);
  float* dlogits = with_backward ? dlogits_.f32(B * C) : nullptr;
  result.loss = classification_loss(ctx_, type, logits, batch, C, dlogits);
  result.has_loss = true;
  if (!with_backward) return result;

  float* grads = grads_.f32(2 * n);
  float *dlast = grads, *dx0 = grads + n;
  head_.backward(ctx_, dlogits, dlast, B, T);
  // Frozen embeddings (--freeze-embeddings, LoRA): nobody keeps a gradient below the encoder, so the encoder is
  // asked for no input gradient (it then stops at its lowest trainable layer) and the embeddings' backward is skipped.
  ParameterList embedding_params;
  embeddings_.collect(embedding_params);
  const bool embeddings_trainable = any_trainable(embedding_params);
  encoder_.backward(ctx_, x0, dlast, embeddings_trainable ? dx0 : nullptr, B, T);
  if (embeddings_trainable) embeddings_.backward(ctx_, dx0, B, T);
  return result;
}

void BertForSequenceClassification::save_pretrained(const std::string& dir) const {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  ACCENT_CHECK(!ec, dir, ": cannot create the output directory (", ec.message(), ")");
  NamedTensors tensors;
  for (Parameter* p : const_cast<BertForSequenceClassification*>(this)->parameters())
    tensors.emplace_back(p->name, p->value);
  // Weights first, config last: each file is replaced atomically, and a directory whose config.json is new
  // always has the weights it describes.
  save_safetensors_checkpoint(dir, tensors);
  ModelConfig out = config_;
  out.model_type = "bert";
  out.architectures = {kArchitecture};
  save_config((std::filesystem::path(dir) / "config.json").string(), out);
}

}  // namespace accent
