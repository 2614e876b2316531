#include "models/encoder_classifier.h"

#include <vector>

#include "core/error.h"
#include "nn/freeze.h"
#include "nn/lora.h"

namespace accent {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string family_prefix(EncoderFamily f) {
  switch (f) {
    case EncoderFamily::Bert: return "bert";
    case EncoderFamily::Roberta:
    case EncoderFamily::XlmRoberta: return "roberta";  // XLMRobertaForSequenceClassification keeps "roberta"
    case EncoderFamily::Electra: return "electra";
    case EncoderFamily::DistilBert: return "distilbert";
  }
  return "";
}

BertDims family_dims(EncoderFamily f, const ModelConfig& c, const std::string& origin) {
  BertDims d = BertDims::from_config(c, origin);
  if (f == EncoderFamily::Roberta || f == EncoderFamily::XlmRoberta) {
    ACCENT_CHECK(d.pad >= 0, origin, ": RoBERTa needs pad_token_id (position ids start after it)");
    d.padding_offset_positions = true;
  }
  if (f == EncoderFamily::DistilBert) {
    d.TV = 0;
    d.attention_output_dropout = false;
    const auto sin = c.extra.find("sinusoidal_pos_embds");
    ACCENT_CHECK(sin == c.extra.end() || !sin->is_boolean() || !sin->get<bool>(), origin,
                 ": sinusoidal_pos_embds true is not supported (DistilBERT with learned positions only)");
  }
  return d;
}

BertDims embedding_dims_of(EncoderFamily f, const ModelConfig& c, const BertDims& d, const std::string& origin) {
  BertDims e = d;
  if (f == EncoderFamily::Electra && c.embedding_size) {
    ACCENT_CHECK(*c.embedding_size > 0, origin, ": embedding_size must be positive, got ", *c.embedding_size);
    e.H = *c.embedding_size;
  }
  return e;
}

std::string encoder_prefix(EncoderFamily f) {
  return f == EncoderFamily::DistilBert ? "distilbert.transformer" : family_prefix(f) + ".encoder";
}

ClsTokenHead make_head(EncoderFamily f, const BertDims& d, ModelTask task) {
  if (task != ModelTask::SequenceClassification) return ClsTokenHead();
  if (f == EncoderFamily::Bert)
    return ClsTokenHead("bert.pooler.dense", "classifier", d.H, d.C, Activation::Tanh, d.classifier_dropout, false);
  if (f == EncoderFamily::DistilBert)
    return ClsTokenHead("pre_classifier", "classifier", d.H, d.C, Activation::Relu, d.classifier_dropout, false);
  const Activation act = f == EncoderFamily::Electra ? Activation::Gelu : Activation::Tanh;
  return ClsTokenHead("classifier.dense", "classifier.out_proj", d.H, d.C, act, d.classifier_dropout, true);
}

PerTokenHead make_token_head(EncoderFamily f, const ModelConfig& c, const BertDims& d, ModelTask task) {
  switch (task) {
    case ModelTask::SequenceClassification: return PerTokenHead();
    case ModelTask::TokenClassification:  // DistilBERT: Dropout(config.dropout); the others classifier_dropout ?? hidden
      return PerTokenHead("classifier", d.H, d.C, f == EncoderFamily::DistilBert ? d.hidden_dropout : d.classifier_dropout);
    case ModelTask::QuestionAnswering: {
      float p = 0.0f;
      if (f == EncoderFamily::DistilBert) {
        const auto it = c.extra.find("qa_dropout");
        p = it != c.extra.end() && it->is_number() ? it->get<float>() : 0.1f;
      }
      return PerTokenHead("qa_outputs", d.H, 2, p);
    }
  }
  return PerTokenHead();
}

// DistilBERT's TransformerBlock names for the parameters of a BERT layer (same order in the state dict).
void rename_to_distilbert(BertEncoder& encoder) {
  static const std::vector<std::pair<std::string, std::string>> kRenames = {
      {".attention.self.query.", ".attention.q_lin."},   {".attention.self.key.", ".attention.k_lin."},
      {".attention.self.value.", ".attention.v_lin."},   {".attention.output.dense.", ".attention.out_lin."},
      {".attention.output.LayerNorm.", ".sa_layer_norm."}, {".intermediate.dense.", ".ffn.lin1."},
      {".output.dense.", ".ffn.lin2."},                  {".output.LayerNorm.", ".output_layer_norm."}};
  ParameterList params;
  encoder.collect(params);
  for (Parameter* p : params) {
    for (const auto& [from, to] : kRenames) {
      const size_t at = p->name.find(from);
      if (at == std::string::npos) continue;
      p->name.replace(at, from.size(), to);
      break;
    }
  }
}

}  // namespace

EncoderClassifier::EncoderClassifier(EncoderFamily family, ModelConfig config, ModelTask task, const std::string& origin)
    : TransformerClassifier(std::move(config), task),
      family_(family),
      dims_(family_dims(family, config_, origin)),
      embedding_dims_(embedding_dims_of(family, config_, dims_, origin)),
      embeddings_(family_prefix(family) + ".embeddings", embedding_dims_),
      encoder_(encoder_prefix(family), dims_),
      head_(make_head(family, dims_, task)),
      token_head_(make_token_head(family, config_, dims_, task)) {
  if (embedding_dims_.H != dims_.H)
    projection_ = std::make_unique<Linear>(family_prefix(family) + ".embeddings_project", embedding_dims_.H, dims_.H);
  if (family == EncoderFamily::DistilBert) rename_to_distilbert(encoder_);
}

std::string EncoderClassifier::class_prefix() const {
  switch (family_) {
    case EncoderFamily::Bert: return "Bert";
    case EncoderFamily::Roberta: return "Roberta";
    case EncoderFamily::XlmRoberta: return "XLMRoberta";
    case EncoderFamily::Electra: return "Electra";
    case EncoderFamily::DistilBert: return "DistilBert";
  }
  return "";
}

std::string EncoderClassifier::base_prefix() const { return family_prefix(family_); }

void EncoderClassifier::init_parameter(Parameter& p, const Rng& rng) const {
  const float stddev = static_cast<float>(config_.initializer_range);
  const bool is_norm = ends_with(p.name, "LayerNorm.weight") || ends_with(p.name, "LayerNorm.bias") ||
                       ends_with(p.name, "layer_norm.weight") || ends_with(p.name, "layer_norm.bias");
  int64_t padding_row = -1;
  if (&p == &embeddings_.word.weight) padding_row = embeddings_.word.padding_idx();
  if (&p == &embeddings_.position.weight) padding_row = embeddings_.position.padding_idx();  // RoBERTa: pad
  init_standard(p, rng, stddev, is_norm, padding_row);
}

void EncoderClassifier::collect(ParameterList& out) {
  embeddings_.collect(out);
  if (projection_) projection_->collect(out);
  encoder_.collect(out);
  if (task_ == ModelTask::SequenceClassification) head_.collect(out);
  else token_head_.collect(out);
}

std::vector<NamedLinear> EncoderClassifier::linear_modules() {
  std::vector<NamedLinear> out;
  auto add = [&](Linear& l, bool head) {
    const std::string& w = l.weight.name;  // "<module>.weight"
    out.push_back({w.substr(0, w.size() - 7), &l, nullptr, head});
  };
  if (projection_) add(*projection_, false);
  for (Linear* l : encoder_.linears()) add(*l, false);
  if (task_ == ModelTask::SequenceClassification) {
    add(head_.dense, true);
    add(head_.out, true);
  } else {
    add(token_head_.out, true);
  }
  return out;
}

void EncoderClassifier::forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) {
  const int64_t B = batch.B, T = batch.T;
  // RoBERTa/DistilBERT tokenizers give no token_type_ids (HF model_input_names): the model sees its default.
  const bool uses_token_types =
      (family_ == EncoderFamily::Bert || family_ == EncoderFamily::Electra) && !batch.token_type_ids.empty();
  float* x0 = x0_.f32(B * T * dims_.H);
  float* e0 = projection_ ? e0_.f32(B * T * embedding_dims_.H) : x0;
  embeddings_.forward(ctx_, batch.input_ids.data(), uses_token_types ? batch.token_type_ids.data() : nullptr, e0, B, T,
                      rng);
  if (projection_) projection_->forward(ctx_, e0, x0, B * T);
  const float* last = encoder_.forward(ctx_, x0, mask_add, B, T, rng, packing_, head_rows_);
  if (task_ == ModelTask::SequenceClassification) head_.forward(ctx_, last, logits, B, T, rng);
  else token_head_.forward(ctx_, last, logits, B, T, rng);
}

void EncoderClassifier::backward_logits(const Batch& batch, const float* dlogits) {
  const int64_t B = batch.B, T = batch.T, n = B * T * dims_.H, ne = B * T * embedding_dims_.H;
  float* grads = grads_.f32(2 * n + ne);
  float *dlast = grads, *dx0 = grads + n, *de0 = grads + 2 * n;
  if (task_ == ModelTask::SequenceClassification) {
    head_.backward(ctx_, dlogits, dlast, B, T);
    grads_ready(head_);
  } else {
    token_head_.backward(ctx_, dlogits, dlast, B, T);
    grads_ready(token_head_);
  }
  encoder_.grad_ready_hook = grad_ready_hook_;
  float* x0 = x0_.f32(n);
  // Below the encoder: the ELECTRA projection, then the embeddings. When neither trains (--freeze-embeddings,
  // LoRA), the encoder is asked for no input gradient and stops at its lowest trainable layer.
  ParameterList projection_params;
  if (projection_) projection_->collect(projection_params);
  const bool embeddings_trainable = embeddings_.backward_wanted();
  const bool projection_trainable =
      projection_ && (any_trainable(projection_params) || has_trainable_adapter(projection_->lora));
  if (!embeddings_trainable && !projection_trainable) {
    encoder_.backward(ctx_, x0, dlast, nullptr, B, T, packing_, head_rows_);
    return;
  }
  encoder_.backward(ctx_, x0, dlast, dx0, B, T, packing_, head_rows_);
  if (projection_) {
    projection_->backward(ctx_, e0_.f32(ne), dx0, embeddings_trainable ? de0 : nullptr, B * T);
    if (embeddings_trainable) embeddings_.backward(ctx_, de0, B, T);
  } else {
    embeddings_.backward(ctx_, dx0, B, T);
  }
}

}  // namespace accent
