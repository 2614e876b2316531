#include "models/bert_classifier.h"

#include "nn/freeze.h"

namespace accent {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

ModelConfig with_bert_model_type(ModelConfig config) {
  if (config.model_type.empty()) config.model_type = "bert";
  return config;
}

}  // namespace

BertForSequenceClassification::BertForSequenceClassification(ModelConfig config, const std::string& origin)
    : TransformerClassifier(with_bert_model_type(std::move(config))),
      dims_(BertDims::from_config(config_, origin)),
      embeddings_(std::string(kBasePrefix) + ".embeddings", dims_),
      encoder_(std::string(kBasePrefix) + ".encoder", dims_),
      head_(std::string(kBasePrefix) + ".pooler", "classifier", dims_) {}

void BertForSequenceClassification::init_parameter(Parameter& p, const Rng& rng) const {
  const bool is_norm = ends_with(p.name, "LayerNorm.weight") || ends_with(p.name, "LayerNorm.bias");
  const int64_t padding_row = &p == &embeddings_.word.weight ? dims_.pad : -1;
  init_standard(p, rng, static_cast<float>(config_.initializer_range), is_norm, padding_row);
}

void BertForSequenceClassification::collect(ParameterList& out) {
  embeddings_.collect(out);
  encoder_.collect(out);
  head_.collect_pooler(out);
  head_.collect_classifier(out);
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

void BertForSequenceClassification::forward_logits(const Batch& batch, const float* mask_add, float* logits,
                                                   Rng* rng) {
  const int64_t B = batch.B, T = batch.T;
  float* x0 = x0_.f32(B * T * dims_.H);
  embeddings_.forward(ctx_, batch.input_ids.data(), batch.token_type_ids.empty() ? nullptr : batch.token_type_ids.data(),
                      x0, B, T, rng);
  const float* last = encoder_.forward(ctx_, x0, mask_add, B, T, rng);
  head_.forward(ctx_, last, logits, B, T, rng);
}

void BertForSequenceClassification::backward_logits(const Batch& batch, const float* dlogits) {
  const int64_t B = batch.B, T = batch.T, n = B * T * dims_.H;
  float* grads = grads_.f32(2 * n);
  float *dlast = grads, *dx0 = grads + n;
  head_.backward(ctx_, dlogits, dlast, B, T);
  // Frozen embeddings (--freeze-embeddings, LoRA): nobody keeps a gradient below the encoder, so the encoder is
  // asked for no input gradient (it then stops at its lowest trainable layer) and the embeddings' backward is skipped.
  const bool embeddings_trainable = embeddings_.backward_wanted();
  encoder_.backward(ctx_, x0_.f32(n), dlast, embeddings_trainable ? dx0 : nullptr, B, T);
  if (embeddings_trainable) embeddings_.backward(ctx_, dx0, B, T);
}

}  // namespace accent
