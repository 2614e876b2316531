#include "models/modernbert_classifier.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "models/config_values.h"
#include "nn/freeze.h"
#include "nn/parameter_init.h"
#include "ops/embedding.h"
#include "ops/matmul.h"
#include "ops/memory.h"

namespace accent {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// The rope_theta of one layer type: rope_parameters[type].rope_theta (transformers 5), else the older top-level key.
double rope_theta(const ModelConfig& c, const char* type, const char* old_key, double fallback,
                  const std::string& origin) {
  const auto params = c.extra.find("rope_parameters");
  if (params != c.extra.end() && params->is_object() && params->contains(type)) {
    const nlohmann::json& p = (*params)[type];
    ACCENT_CHECK(p.is_object(), origin, ": rope_parameters.", type, " is not an object");
    ACCENT_CHECK(!p.contains("rope_type") || p["rope_type"] == "default", origin, ": rope_parameters.", type,
                 ".rope_type ", p.value("rope_type", nlohmann::json()).dump(),
                 " is not supported (accent implements the default rotary embedding)");
    if (p.contains("rope_theta") && p["rope_theta"].is_number()) return p["rope_theta"].get<double>();
  }
  return extra_number(c, old_key, fallback);
}

ModernBertDims modernbert_dims(const ModelConfig& c, const std::string& origin) {
  ModernBertDims d;
  static_cast<CoreSizes&>(d) = core_sizes(c, origin);
  ACCENT_CHECK(d.H % d.NH == 0, origin, ": hidden_size ", d.H, " is not a multiple of num_attention_heads ", d.NH);
  d.D = d.H / d.NH;
  ACCENT_CHECK(d.D % 2 == 0, origin, ": head size ", d.D, " must be even (rotary embeddings)");
  d.pad = c.pad_token_id.value_or(-1);
  ACCENT_CHECK(d.pad < d.V, origin, ": pad_token_id ", d.pad, " is outside the vocabulary (vocab_size ", d.V, ")");
  d.eps = static_cast<float>(c.layer_norm_eps);
  d.norm_bias = extra_bool(c, "norm_bias", false);
  d.attention_bias = extra_bool(c, "attention_bias", false);
  d.mlp_bias = extra_bool(c, "mlp_bias", false);
  d.classifier_bias = extra_bool(c, "classifier_bias", false);
  d.embedding_dropout = static_cast<float>(extra_number(c, "embedding_dropout", 0.0));
  d.attention_dropout = static_cast<float>(c.attention_probs_dropout_prob);
  d.mlp_dropout = static_cast<float>(extra_number(c, "mlp_dropout", 0.0));
  d.classifier_dropout = static_cast<float>(c.classifier_dropout.value_or(0.0));
  for (float p : {d.embedding_dropout, d.attention_dropout, d.mlp_dropout, d.classifier_dropout})
    ACCENT_CHECK(p >= 0.0f && p < 1.0f, origin, ": dropout probabilities must be in [0, 1), got ", p);
  d.act = activation_from_name(c.hidden_act);
  d.head_act = activation_from_name(extra_string(c, "classifier_activation", "gelu"));
  d.global_every = extra_positive_integer(c, "global_attn_every_n_layers", 3, origin);
  d.local_half_window = extra_positive_integer(c, "local_attention", 128, origin) / 2;
  d.local_rope.resize(static_cast<size_t>(d.L));
  const auto types = c.extra.find("layer_types");
  const bool listed = types != c.extra.end() && types->is_array();
  ACCENT_CHECK(!listed || static_cast<int64_t>(types->size()) == d.L, origin, ": layer_types has ",
               listed ? types->size() : 0, " entries for ", d.L, " layers");
  for (int64_t l = 0; l < d.L; ++l) {
    if (!listed) {
      d.local_rope[static_cast<size_t>(l)] = l % d.global_every != 0;
      continue;
    }
    const nlohmann::json& t = (*types)[static_cast<size_t>(l)];
    ACCENT_CHECK(t == "full_attention" || t == "sliding_attention", origin, ": layer_types[", l, "] is ", t.dump(),
                 " (expected \"full_attention\" or \"sliding_attention\")");
    d.local_rope[static_cast<size_t>(l)] = t == "sliding_attention";
  }
  ACCENT_CHECK(!c.extra.contains("rope_scaling") || c.extra["rope_scaling"].is_null(), origin,
               ": rope_scaling is not supported for ModernBERT (accent implements the default rotary embedding)");
  d.global_theta = rope_theta(c, "full_attention", "global_rope_theta", 160000.0, origin);
  d.local_theta = rope_theta(c, "sliding_attention", "local_rope_theta", 10000.0, origin);
  ACCENT_CHECK(d.global_theta > 0 && d.local_theta > 0, origin, ": rope_theta must be positive");
  const std::string pooling = extra_string(c, "classifier_pooling", "cls");
  ACCENT_CHECK(pooling == "cls" || pooling == "mean", origin, ": classifier_pooling \"", pooling,
               "\" (expected \"cls\" or \"mean\")");
  d.mean_pooling = pooling == "mean";
  const auto cutoff = c.extra.find("initializer_cutoff_factor");
  d.init_cutoff = cutoff != c.extra.end() && cutoff->is_number() ? cutoff->get<float>() : 3.0f;  // None → 3
  return d;
}

}  // namespace

ModernBertClassifier::ModernBertClassifier(ModelConfig config, ModelTask task, const std::string& origin)
    : TransformerClassifier(std::move(config), task),
      dims_(modernbert_dims(config_, origin)),
      embeddings_("model.embeddings.tok_embeddings", "model.embeddings.norm", dims_.V, dims_.H, dims_.pad, dims_.eps,
                  dims_.norm_bias, dims_.embedding_dropout),
      final_norm_("model.final_norm", dims_.H, dims_.eps, dims_.norm_bias),
      head_(dims_.H, dims_.C, dims_.classifier_bias, dims_.norm_bias,
            dims_.eps, dims_.head_act, dims_.classifier_dropout) {
  // A padded query whose whole local window is padding gets, in HF, scores that all round to finfo.min: a uniform
  // row whose gradient autograd still follows. accent masks such keys to probability 0 instead. Only padded rows
  // differ, and only QA's loss reads padded rows (its softmax runs over every position, padding included).
  ACCENT_CHECK(task != ModelTask::QuestionAnswering, origin, ": question answering is not implemented for "
               "ModernBERT (sequence and token classification are): its loss reads padded positions, whose local "
               "attention accent does not reproduce bit for bit");
  for (int64_t l = 0; l < dims_.L; ++l)
    layers_.push_back(std::make_unique<ModernBertLayer>("model.layers." + std::to_string(l), dims_, l));
}

void ModernBertClassifier::init_parameter(Parameter& p, const Rng& rng) const {
  const bool is_bias = ends_with(p.name, ".bias");
  const bool is_norm = p.name.find("norm.") != std::string::npos;  // embeddings.norm, attn_norm, mlp_norm, …
  if (is_norm || is_bias) return init_standard(p, rng, 0.0f, is_norm);
  const float range = static_cast<float>(config_.initializer_range);
  float stddev = range;  // "in": Wqkv, Wi, tok_embeddings
  if (ends_with(p.name, "attn.Wo.weight") || ends_with(p.name, "mlp.Wo.weight") || p.name == "head.dense.weight")
    stddev = range / std::sqrt(2.0f * static_cast<float>(std::max<int64_t>(1, dims_.L)));  // "out"
  if (p.name == "classifier.weight") stddev = 1.0f / std::sqrt(static_cast<float>(dims_.H));  // "final_out"
  init_truncated_normal(p, stddev, dims_.init_cutoff, rng);
}

void ModernBertClassifier::collect(ParameterList& out) {
  embeddings_.collect(out);
  for (auto& layer : layers_) layer->collect(out);
  final_norm_.collect(out);
  head_.collect(out);
}

std::vector<NamedLinear> ModernBertClassifier::linear_modules() {
  std::vector<NamedLinear> out;
  auto module_name = [](const Parameter& weight) { return weight.name.substr(0, weight.name.size() - 7); };
  for (auto& layer : layers_)
    for (Linear* l : {&layer->Wqkv, &layer->attn_Wo, &layer->Wi, &layer->mlp_Wo})
      out.push_back(NamedLinear{module_name(l->weight), l, nullptr});
  for (Linear* l : {&head_.dense, &head_.classifier})
    out.push_back(NamedLinear{module_name(l->weight), l, nullptr, /*head=*/true});
  return out;
}

std::vector<int64_t> ModernBertClassifier::head_positions(const Batch& batch) const {
  return std::vector<int64_t>(static_cast<size_t>(batch.B), 0);  // CLS; mean pooling reads the unpacked state
}

void ModernBertClassifier::forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) {
  const int64_t B = batch.B, T = batch.T, H = dims_.H, NH = dims_.NH, rows = B * T, n = rows * H, L = dims_.L;
  const TokenPacking* packing = packing_;
  const int64_t na = active_rows(packing, B, T) * H;
  ACCENT_CHECK(!(packing && task_ != ModelTask::SequenceClassification), "internal: packed per-token head");
  // Ids, the head blocks' positions (t of every (b, h, t)) and the CLS rows b·T, staged in the ops' memory.
  ids_host_.resize(static_cast<size_t>(rows + B * NH * T + B));
  int32_t* host = ids_host_.data();
  std::copy(batch.input_ids.begin(), batch.input_ids.end(), host);
  for (int64_t i = 0; i < B * NH * T; ++i) host[rows + i] = static_cast<int32_t>(i % T);
  for (int64_t b = 0; b < B; ++b) host[rows + B * NH * T + b] = static_cast<int32_t>(b * T);
  const size_t id_bytes = ids_host_.size() * sizeof(int32_t);
  int32_t* staged = reinterpret_cast<int32_t*>(ids_.u8(static_cast<int64_t>(id_bytes)));
  copy_from_host(ctx_, staged, host, id_bytes);
  const int32_t* ids = staged;
  const int32_t *head_positions = ids + rows, *cls_rows = ids + rows + B * NH * T;

  const int64_t kept = InferenceScratch::active() ? std::min<int64_t>(L + 1, 2) : L + 1;
  float* hidden = hidden_.f32(kept * na);
  auto state = [&](int64_t l) { return hidden + (l % kept) * na; };
  float* x0 = packing ? padded_.f32(n) : hidden;  // the embeddings run padded, then are packed
  embeddings_.forward(ctx_, ids, x0, rows, rng);
  if (packing) pack_rows(ctx_, packing, x0, hidden, B, T, H);
  for (int64_t l = 0; l < L; ++l)
    layers_[static_cast<size_t>(l)]->forward(ctx_, state(l), head_positions, mask_add, state(l + 1), B, T, rng,
                                             packing);
  float* z = final_.f32(na);
  final_norm_.forward(ctx_, state(L), z, na / H);
  const float* z_padded = padded_rows(z, padded_, B, T, H);
  if (task_ != ModelTask::SequenceClassification) return head_.forward(ctx_, z_padded, logits, rows, rng);
  float* pooled = pooled_.f32(B * H);
  if (!dims_.mean_pooling) {
    embedding_forward(ctx_, cls_rows, z_padded, pooled, B, rows, H, /*accumulate=*/false, "last hidden state");
  } else {  // pooled_b (1, H) = w_b (1, T) · Z_b (T, H), w = mask / Σ mask
    pool_host_.assign(static_cast<size_t>(rows), 0.0f);
    for (int64_t b = 0; b < B; ++b) {
      int64_t count = 0;
      for (int64_t t = 0; t < T; ++t) count += batch.attention_mask.empty() || batch.attention_mask[b * T + t] != 0;
      for (int64_t t = 0; t < T; ++t)
        if (batch.attention_mask.empty() || batch.attention_mask[b * T + t] != 0)
          pool_host_[static_cast<size_t>(b * T + t)] = 1.0f / static_cast<float>(std::max<int64_t>(1, count));
    }
    float* w = pool_.f32(rows);
    copy_from_host(ctx_, w, pool_host_.data(), pool_host_.size() * sizeof(float));
    gemm(ctx_, GemmShape{B, 1, H, T, false, false}, w, z_padded, nullptr, pooled, false);
  }
  head_.forward(ctx_, pooled, logits, B, rng);
}

void ModernBertClassifier::backward_logits(const Batch& batch, const float* dlogits) {
  const int64_t B = batch.B, T = batch.T, H = dims_.H, NH = dims_.NH, rows = B * T, n = rows * H, L = dims_.L;
  const TokenPacking* packing = packing_;
  const int64_t na = active_rows(packing, B, T) * H;
  float* hidden = hidden_.f32((L + 1) * na);
  float* grads = grads_.f32(2 * na);
  float* dy = grads;
  const int32_t* ids =
      reinterpret_cast<const int32_t*>(ids_.u8(static_cast<int64_t>(ids_host_.size() * sizeof(int32_t))));
  const int32_t *head_positions = ids + rows, *cls_rows = ids + rows + B * NH * T;
  float* z = final_.f32(na);

  // d(Z) over the padded rows, then packed: the head's gradient reaches the pooled rows (or every row).
  float* dz = packing ? padded_.f32(n) : dy;
  if (task_ != ModelTask::SequenceClassification) {
    head_.backward(ctx_, z, dlogits, dz, rows);
  } else {
    float* pooled = pooled_.f32(B * H);
    head_.backward(ctx_, pooled, dlogits, /*dx=*/pooled, B);
    if (!dims_.mean_pooling) {
      fill_zero(ctx_, dz, static_cast<size_t>(n) * sizeof(float));
      embedding_backward(ctx_, cls_rows, pooled, dz, B, rows, H, /*padding_idx=*/-1);
    } else {  // dZ_b (T, H) = w_bᵀ (T, 1) · dpooled_b (1, H)
      gemm(ctx_, GemmShape{B, T, H, 1, true, false}, pool_.f32(rows), pooled, nullptr, dz, false);
    }
  }
  if (packing) pack_rows(ctx_, packing, dz, dy, B, T, H);
  grads_ready(head_);
  final_norm_.backward(ctx_, hidden + L * na, dy, dy, na / H);
  grads_ready(final_norm_);

  const bool embeddings_trainable = any_trainable_in(embeddings_);
  dy = backprop_layers(layers_, lowest_layer_to_backprop(layers_, embeddings_trainable), dy, grads, na,
                       [&](int64_t l, const float* d, float* dx) {
                         layers_[static_cast<size_t>(l)]->backward(ctx_, hidden + l * na, head_positions, d, dx, B, T,
                                                                   packing);
                       });
  if (!embeddings_trainable) return;
  float* d0 = padded_rows(dy, padded_, B, T, H);
  embeddings_.backward(ctx_, ids, d0, rows);
  grads_ready(embeddings_);
}

}  // namespace accent
