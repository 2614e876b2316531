#include "models/deberta_classifier.h"

#include <algorithm>

#include "core/error.h"
#include "models/config_values.h"
#include "models/deberta_relative_positions.h"
#include "nn/freeze.h"
#include "ops/memory.h"
#include "ops/tensor_ops.h"

namespace accent {

namespace {

// pos_att_type: a list, or HF's older "p2c|c2p" string.
std::vector<std::string> pos_att_types(const ModelConfig& c, const std::string& origin) {
  const auto it = c.extra.find("pos_att_type");
  std::vector<std::string> out;
  if (it == c.extra.end() || it->is_null()) return out;
  if (it->is_string()) {
    const std::string s = it->get<std::string>();
    for (size_t start = 0; start <= s.size();) {
      const size_t bar = std::min(s.find('|', start), s.size());
      std::string part = s.substr(start, bar - start);
      part.erase(0, part.find_first_not_of(" \t"));
      part.erase(part.find_last_not_of(" \t") + 1);
      std::transform(part.begin(), part.end(), part.begin(), [](unsigned char ch) { return std::tolower(ch); });
      if (!part.empty()) out.push_back(part);
      start = bar + 1;
    }
    return out;
  }
  ACCENT_CHECK(it->is_array(), origin, ": pos_att_type must be a list or a \"p2c|c2p\" string, got ", it->dump());
  for (const auto& e : *it) {
    ACCENT_CHECK(e.is_string(), origin, ": pos_att_type entries must be strings, got ", e.dump());
    out.push_back(e.get<std::string>());
  }
  return out;
}

DebertaDims deberta_dims(const ModelConfig& c, const std::string& origin) {
  DebertaDims d;
  static_cast<CoreSizes&>(d) = core_sizes(c, origin);
  ACCENT_CHECK(d.H % d.NH == 0, origin, ": hidden_size ", d.H, " is not a multiple of num_attention_heads ", d.NH);
  d.D = d.H / d.NH;
  d.pad = c.pad_token_id.value_or(0);
  ACCENT_CHECK(d.pad >= 0 && d.pad < d.V, origin, ": pad_token_id ", d.pad, " is outside the vocabulary (vocab_size ",
               d.V, ")");
  d.eps = static_cast<float>(c.layer_norm_eps);
  d.act = activation_from_name(c.hidden_act);
  d.pooler_act = activation_from_name(extra_string(c, "pooler_hidden_act", "gelu"));
  d.hidden_dropout = static_cast<float>(c.hidden_dropout_prob);
  d.attention_dropout = static_cast<float>(c.attention_probs_dropout_prob);
  d.pooler_dropout = static_cast<float>(extra_number(c, "pooler_dropout", 0.0));
  d.cls_dropout = static_cast<float>(c.classifier_dropout.value_or(c.hidden_dropout_prob));
  for (float p : {d.hidden_dropout, d.attention_dropout, d.pooler_dropout, d.cls_dropout})
    ACCENT_CHECK(p >= 0.0f && p < 1.0f, origin, ": dropout probabilities must be in [0, 1), got ", p);

  const char* unsupported = " (accent implements DeBERTa-v3's layout: relative attention with shared projections)";
  ACCENT_CHECK(extra_bool(c, "relative_attention", false), origin, ": relative_attention false is not supported",
               unsupported);
  ACCENT_CHECK(!extra_bool(c, "position_biased_input", true), origin,
               ": position_biased_input true (absolute position embeddings) is not supported", unsupported);
  const double type_vocab_size = extra_number(c, "type_vocab_size", 0);
  ACCENT_CHECK(type_vocab_size == 0, origin, ": type_vocab_size ", type_vocab_size,
               " (token type embeddings) is not supported", unsupported);
  const auto embedding_size = c.extra.find("embedding_size");
  ACCENT_CHECK(embedding_size == c.extra.end() || embedding_size->is_null() || *embedding_size == d.H, origin, ": embedding_size ", c.extra.value("embedding_size", nlohmann::json()).dump(), " ≠ hidden_size ",
               d.H, " (embed_proj) is not supported");
  ACCENT_CHECK(extra_bool(c, "share_att_key", false), origin, ": share_att_key false is not supported", unsupported);
  ACCENT_CHECK(extra_number(c, "conv_kernel_size", 0) == 0, origin,
               ": conv_kernel_size > 0 (the ConvLayer of deberta-v2-xlarge) is not supported");
  const std::string norm_rel = extra_string(c, "norm_rel_ebd", "none");
  ACCENT_CHECK(norm_rel.find("layer_norm") != std::string::npos, origin, ": norm_rel_ebd \"", norm_rel,
               "\" is not supported (expected \"layer_norm\")");
  const auto pooler_size = c.extra.find("pooler_hidden_size");
  ACCENT_CHECK(pooler_size == c.extra.end() || pooler_size->is_null() || *pooler_size == d.H, origin,
               ": pooler_hidden_size ", pooler_size == c.extra.end() ? "" : pooler_size->dump(), " ≠ hidden_size ",
               d.H, " is not supported");
  d.c2p = d.p2c = false;
  for (const std::string& t : pos_att_types(c, origin)) {
    ACCENT_CHECK(t == "c2p" || t == "p2c", origin, ": pos_att_type \"", t, "\" is not supported (c2p, p2c)");
    (t == "c2p" ? d.c2p : d.p2c) = true;
  }
  const int64_t max_relative = static_cast<int64_t>(extra_number(c, "max_relative_positions", -1));
  d.max_position = max_relative < 1 ? c.max_position_embeddings : max_relative;
  d.bucket_size = static_cast<int64_t>(extra_number(c, "position_buckets", -1));
  d.att_span = d.bucket_size > 0 ? d.bucket_size : d.max_position;
  ACCENT_CHECK(d.att_span > 0, origin, ": the relative attention span (position_buckets or max_relative_positions) "
               "must be positive");
  return d;
}

}  // namespace

DebertaClassifier::DebertaClassifier(ModelConfig config, ModelTask task, const std::string& origin)
    : TransformerClassifier(std::move(config), task),
      dims_(deberta_dims(config_, origin)),
      embeddings_("deberta.embeddings.word_embeddings", "deberta.embeddings.LayerNorm", dims_.V, dims_.H, dims_.pad,
                  dims_.eps, /*norm_bias=*/true, dims_.hidden_dropout),
      rel_embeddings_("deberta.encoder.rel_embeddings", dims_.R(), dims_.H),
      rel_norm_("deberta.encoder.LayerNorm", dims_.H, dims_.eps) {
  // HF's padded query rows attend uniformly to every key (all their scores are finfo.min); accent's attend to the
  // real keys. Only padded rows differ, and only QA's loss reads them (its softmax runs over every position).
  ACCENT_CHECK(task != ModelTask::QuestionAnswering, origin, ": question answering is not implemented for "
               "DeBERTa-v2 (sequence and token classification are): its loss reads padded positions, whose "
               "attention accent does not reproduce bit for bit");
  for (int64_t l = 0; l < dims_.L; ++l)
    layers_.push_back(std::make_unique<DebertaLayer>("deberta.encoder.layer." + std::to_string(l), dims_));
  if (task == ModelTask::SequenceClassification)
    pooler_head_ = ClsTokenHead("pooler.dense", "classifier", dims_.H, dims_.C, dims_.pooler_act, dims_.pooler_dropout,
                                /*dropout_first=*/true, dims_.cls_dropout);
  else
    token_head_ = PerTokenHead("classifier", dims_.H, dims_.C, dims_.hidden_dropout);
}

void DebertaClassifier::init_parameter(Parameter& p, const Rng& rng) const {
  const bool is_norm = p.name.find("LayerNorm.") != std::string::npos;
  const int64_t padding_row = &p == &embeddings_.word.weight ? dims_.pad : -1;
  init_standard(p, rng, static_cast<float>(config_.initializer_range), is_norm, padding_row);
}

void DebertaClassifier::collect(ParameterList& out) {
  embeddings_.collect(out);
  for (auto& layer : layers_) layer->collect(out);
  rel_embeddings_.collect(out);
  rel_norm_.collect(out);
  if (task_ == ModelTask::SequenceClassification)
    pooler_head_.collect(out);
  else
    token_head_.collect(out);
}

std::vector<NamedLinear> DebertaClassifier::linear_modules() {
  std::vector<NamedLinear> out;
  auto module_name = [](const Parameter& weight) { return weight.name.substr(0, weight.name.size() - 7); };
  for (auto& l : layers_)
    for (Linear* m : {&l->query_proj, &l->key_proj, &l->value_proj, &l->attention_output, &l->intermediate, &l->output})
      out.push_back(NamedLinear{module_name(m->weight), m, nullptr});
  if (task_ == ModelTask::SequenceClassification) {
    for (Linear* m : {&pooler_head_.dense, &pooler_head_.out})
      out.push_back(NamedLinear{module_name(m->weight), m, nullptr, /*head=*/true});
  } else {
    out.push_back(NamedLinear{module_name(token_head_.out.weight), &token_head_.out, nullptr, /*head=*/true});
  }
  return out;
}

std::vector<int64_t> DebertaClassifier::head_positions(const Batch& batch) const {
  return std::vector<int64_t>(static_cast<size_t>(batch.B), 0);
}

void DebertaClassifier::forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) {
  const int64_t B = batch.B, T = batch.T, H = dims_.H, rows = B * T, n = rows * H, L = dims_.L, R = dims_.R();
  const TokenPacking* packing = packing_;
  const int64_t na = active_rows(packing, B, T) * H;
  ACCENT_CHECK(!(packing && task_ != ModelTask::SequenceClassification), "internal: packed per-token head");
  // Ids and the (T, T) relative index, staged in the ops' memory.
  ids_host_.resize(static_cast<size_t>(rows));
  std::copy(batch.input_ids.begin(), batch.input_ids.end(), ids_host_.begin());
  const std::vector<int32_t> index = deberta_relative_index(T, dims_.att_span, dims_.bucket_size, dims_.max_position);
  ids_host_.insert(ids_host_.end(), index.begin(), index.end());
  const size_t id_bytes = ids_host_.size() * sizeof(int32_t);
  int32_t* staged = reinterpret_cast<int32_t*>(ids_.u8(static_cast<int64_t>(id_bytes)));
  copy_from_host(ctx_, staged, ids_host_.data(), id_bytes);
  const int32_t *ids = staged, *rel_index = staged + rows;

  float* rel = rel_.f32(R * H);
  rel_norm_.forward(ctx_, rel_embeddings_.weight.value.f32(), rel, R);

  const int64_t kept = InferenceScratch::active() ? std::min<int64_t>(L + 1, 2) : L + 1;
  float* hidden = hidden_.f32(kept * na);
  auto state = [&](int64_t l) { return hidden + (l % kept) * na; };
  float* x0 = packing ? padded_.f32(n) : hidden;  // the embeddings run padded, then are packed
  embeddings_.forward(ctx_, ids, x0, rows, rng);
  if (packing) pack_rows(ctx_, packing, x0, hidden, B, T, H);
  for (int64_t l = 0; l < L; ++l)
    layers_[static_cast<size_t>(l)]->forward(ctx_, state(l), rel, rel_index, mask_add, state(l + 1), B, T, rng,
                                             packing);
  const float* top = padded_rows(state(L), padded_, B, T, H);
  if (task_ == ModelTask::SequenceClassification) return pooler_head_.forward(ctx_, top, logits, B, T, rng);
  token_head_.forward(ctx_, top, logits, B, T, rng);
}

void DebertaClassifier::backward_logits(const Batch& batch, const float* dlogits) {
  const int64_t B = batch.B, T = batch.T, H = dims_.H, rows = B * T, n = rows * H, L = dims_.L, R = dims_.R();
  const TokenPacking* packing = packing_;
  const int64_t na = active_rows(packing, B, T) * H;
  float* hidden = hidden_.f32((L + 1) * na);
  float* grads = grads_.f32(2 * na);
  float* dy = grads;
  const int32_t* ids =
      reinterpret_cast<const int32_t*>(ids_.u8(static_cast<int64_t>(ids_host_.size() * sizeof(int32_t))));
  const int32_t* rel_index = ids + rows;

  float* dtop = packing ? padded_.f32(n) : dy;
  if (task_ == ModelTask::SequenceClassification) {
    pooler_head_.backward(ctx_, dlogits, dtop, B, T);
    grads_ready(pooler_head_);
  } else {
    token_head_.backward(ctx_, dlogits, dtop, B, T);
    grads_ready(token_head_);
  }
  if (packing) pack_rows(ctx_, packing, dtop, dy, B, T, H);

  const bool words_trainable = any_trainable_in(embeddings_);
  const bool rel_trainable = any_trainable_in(rel_embeddings_, rel_norm_);
  float* drel = drel_.f32(R * H);
  fill_zero(ctx_, drel, static_cast<size_t>(R * H) * sizeof(float));
  // Every layer reads Rel: while it trains, every layer's backward runs.
  dy = backprop_layers(layers_, lowest_layer_to_backprop(layers_, words_trainable || rel_trainable), dy, grads, na,
                       [&](int64_t l, const float* d, float* dx) {
                         layers_[static_cast<size_t>(l)]->backward(ctx_, hidden + l * na, rel_index, d, dx, drel, B, T,
                                                                   packing);
                       });
  if (rel_trainable) {  // Rel = LayerNorm(rel_embeddings): d(rel_embeddings) += LayerNorm'ᵀ · dRel
    rel_norm_.backward(ctx_, rel_embeddings_.weight.value.f32(), drel, drel, R);
    if (rel_embeddings_.weight.trainable) add_inplace(ctx_, drel, rel_embeddings_.weight.grad.f32(), R * H);
    grads_ready(rel_embeddings_);
    grads_ready(rel_norm_);
  }
  if (!words_trainable) return;
  float* d0 = padded_rows(dy, padded_, B, T, H);
  embeddings_.backward(ctx_, ids, d0, rows);
  grads_ready(embeddings_);
}

}  // namespace accent
