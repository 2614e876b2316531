#include "models/decoder_classifier.h"

#include <algorithm>

#include "core/error.h"
#include "core/json_number.h"
#include "models/config_values.h"
#include "nn/freeze.h"
#include "ops/embedding.h"
#include "ops/memory.h"

namespace accent {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

// rope_theta and rope_scaling, from the config's top level (transformers 4.x) or its rope_parameters (5.x).
void read_rotary(const ModelConfig& c, DecoderDims& d, const std::string& origin) {
  const auto params = c.extra.find("rope_parameters");
  const nlohmann::json* scaling = nullptr;
  d.rope_theta = extra_number(c, "rope_theta", 10000.0);
  if (params != c.extra.end() && params->is_object()) {
    if (params->contains("rope_theta") && (*params)["rope_theta"].is_number())
      d.rope_theta = (*params)["rope_theta"].get<double>();
    scaling = &*params;
  } else if (const auto it = c.extra.find("rope_scaling"); it != c.extra.end() && !it->is_null()) {
    ACCENT_CHECK(it->is_object(), origin, ": key \"rope_scaling\" is not an object or null");
    scaling = &*it;
  }
  ACCENT_CHECK(d.rope_theta > 0, origin, ": rope_theta must be positive, got ", d.rope_theta);
  if (!scaling) return;
  std::string type = "default";
  for (const char* key : {"rope_type", "type"})
    if (scaling->contains(key) && (*scaling)[key].is_string()) type = (*scaling)[key].get<std::string>();
  if (type == "default") return;
  ACCENT_CHECK(type == "llama3", origin, ": rope_scaling type \"", type,
               "\" is not supported (accent implements the default and \"llama3\" rotary embeddings)");
  RotaryScaling s;
  auto number = [&](const char* key, double* out) {
    ACCENT_CHECK(scaling->contains(key) && (*scaling)[key].is_number(), origin, ": llama3 rope_scaling needs a number \"",
                 key, "\"");
    *out = (*scaling)[key].get<double>();
  };
  number("factor", &s.factor);
  number("low_freq_factor", &s.low_freq_factor);
  number("high_freq_factor", &s.high_freq_factor);
  number("original_max_position_embeddings", &s.original_max_position_embeddings);
  ACCENT_CHECK(s.factor > 0 && s.low_freq_factor > 0 && s.high_freq_factor > s.low_freq_factor &&
                   s.original_max_position_embeddings > 0,
               origin, ": llama3 rope_scaling needs factor > 0 and 0 < low_freq_factor < high_freq_factor");
  d.llama3_scaling = s;
}

DecoderDims decoder_dims(const ModelConfig& c, std::optional<int64_t> file_pad, const std::string& origin) {
  const bool llama = c.model_type == "llama";
  ACCENT_CHECK(llama || c.model_type == "qwen2", origin, ": model_type \"", c.model_type,
               "\" is not a decoder family accent knows (qwen2, llama)");
  DecoderDims d;
  static_cast<CoreSizes&>(d) = core_sizes(c, origin);
  d.NKV = extra_positive_integer(c, "num_key_value_heads", d.NH, origin);
  ACCENT_CHECK(d.NKV > 0 && d.NH % d.NKV == 0, origin, ": num_attention_heads ", d.NH,
               " is not a multiple of num_key_value_heads ", d.NKV);
  ACCENT_CHECK(c.extra.contains("head_dim") || d.H % d.NH == 0, origin, ": hidden_size ", d.H,
               " is not a multiple of num_attention_heads ", d.NH, " (and head_dim is not given)");
  d.D = extra_positive_integer(c, "head_dim", d.H / d.NH, origin);
  ACCENT_CHECK(d.D > 0 && d.D % 2 == 0, origin, ": head_dim ", d.D, " must be positive and even (rotary embeddings)");
  d.pad = c.pad_token_id.value_or(-1);
  d.padding_idx = file_pad.value_or(-1);
  ACCENT_CHECK(d.pad < d.V && d.padding_idx < d.V, origin, ": pad_token_id ", d.pad,
               " is outside the vocabulary (vocab_size ", d.V, ")");
  d.eps = static_cast<float>(c.layer_norm_eps);
  d.attention_dropout = static_cast<float>(c.attention_probs_dropout_prob);
  ACCENT_CHECK(d.attention_dropout >= 0.0f && d.attention_dropout < 1.0f, origin,
               ": attention_dropout must be in [0, 1), got ", d.attention_dropout);
  read_rotary(c, d, origin);
  if (llama) {
    d.qkv_bias = d.output_bias = extra_bool(c, "attention_bias", false);
    d.mlp_bias = extra_bool(c, "mlp_bias", false);
  } else {
    d.qkv_bias = true;  // Qwen2Attention: q/k/v with bias, o_proj without
    ACCENT_CHECK(!extra_bool(c, "use_sliding_window", false), origin,
                 ": use_sliding_window is true; accent's Qwen2 has full attention only (every released Qwen2/2.5 "
                 "checkpoint sets it false)");
  }
  d.act = activation_from_name(c.hidden_act);
  return d;
}

PerTokenHead make_token_head(const ModelConfig& c, const DecoderDims& d, ModelTask task, const std::string& origin) {
  ACCENT_CHECK(task != ModelTask::QuestionAnswering, origin, ": question answering is not implemented for ",
               c.model_type, " (sequence and token classification are)");
  if (task == ModelTask::TokenClassification) return PerTokenHead("score", d.H, d.C, token_head_dropout(c));
  return PerTokenHead();
}

}  // namespace

DecoderClassifier::DecoderClassifier(ModelConfig config, ModelTask task, const std::string& origin)
    : TransformerClassifier(with_eos_as_pad(config, config.model_type, origin), task),
      dims_(decoder_dims(config_, config.pad_token_id, origin)),
      embed_tokens_("model.embed_tokens", dims_.V, dims_.H, dims_.padding_idx),
      head_(task, RmsNorm("model.norm", dims_.H, dims_.eps),
            task == ModelTask::SequenceClassification ? Linear("score", dims_.H, dims_.C, /*bias=*/false) : Linear(),
            make_token_head(config_, dims_, task, origin)) {
  for (int64_t l = 0; l < dims_.L; ++l)
    layers_.push_back(std::make_unique<DecoderLayer>("model.layers." + std::to_string(l), dims_));
}

std::string DecoderClassifier::class_prefix() const { return config_.model_type == "llama" ? "Llama" : "Qwen2"; }

void DecoderClassifier::init_parameter(Parameter& p, const Rng& rng) const {
  const bool is_norm = ends_with(p.name, "norm.weight");  // input_layernorm, post_attention_layernorm, model.norm
  init_standard(p, rng, static_cast<float>(config_.initializer_range), is_norm,
                p.name == embed_tokens_.weight.name ? dims_.padding_idx : -1);
}

void DecoderClassifier::collect(ParameterList& out) {
  embed_tokens_.collect(out);
  for (auto& layer : layers_) layer->collect(out);
  head_.collect(out);
}

std::vector<NamedLinear> DecoderClassifier::linear_modules() {
  std::vector<NamedLinear> out;
  auto module_name = [](const Parameter& weight) { return weight.name.substr(0, weight.name.size() - 7); };
  for (auto& layer : layers_)
    for (Linear* l : {&layer->self_attn.q_proj, &layer->self_attn.k_proj, &layer->self_attn.v_proj,
                      &layer->self_attn.o_proj, &layer->mlp.gate_proj, &layer->mlp.up_proj, &layer->mlp.down_proj})
      out.push_back(NamedLinear{module_name(l->weight), l, nullptr});
  Linear& head = head_.head_linear();
  out.push_back(NamedLinear{module_name(head.weight), &head, nullptr, /*head=*/true});
  return out;
}

std::vector<int64_t> DecoderClassifier::head_positions(const Batch& batch) const {
  return last_non_pad_positions(batch, dims_.pad);
}

void DecoderClassifier::forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) {
  const int64_t B = batch.B, T = batch.T, H = dims_.H, rows = B * T, n = rows * H, L = dims_.L;
  const TokenPacking* packing = packing_;
  const int64_t active = active_rows(packing, B, T), na = active * H;
  ids_host_.resize(static_cast<size_t>(rows + active + B));
  int32_t* ids = ids_host_.data();
  int32_t *positions = ids + rows, *pooled_rows = ids + rows + active;
  std::copy(batch.input_ids.begin(), batch.input_ids.end(), ids);
  // Each layer row's position: t of its padded place b·T + t (the packed rows are the mask's 1s in batch order).
  int64_t r = 0;
  for (int64_t i = 0; i < rows; ++i)
    if (!packing || batch.attention_mask[static_cast<size_t>(i)] != 0) positions[r++] = static_cast<int32_t>(i % T);
  ACCENT_CHECK(r == active, "decoder positions: ", r, " rows for a packing of ", active);
  const std::vector<int64_t> last = head_positions(batch);
  for (int64_t b = 0; b < B; ++b) pooled_rows[b] = static_cast<int32_t>(b * T + last[static_cast<size_t>(b)]);
  const size_t id_bytes = ids_host_.size() * sizeof(int32_t);
  ids = reinterpret_cast<int32_t*>(ids_.u8(static_cast<int64_t>(id_bytes)));
  copy_from_host(ctx_, ids, ids_host_.data(), id_bytes);
  positions = ids + rows, pooled_rows = ids + rows + active;

  // X0 and every layer output; in inference (nn/scratch.h InferenceScratch) no backward reads them: two slots.
  const int64_t kept = InferenceScratch::active() ? std::min<int64_t>(L + 1, 2) : L + 1;
  float* hidden = hidden_.f32(kept * na);
  auto state = [&](int64_t l) { return hidden + (l % kept) * na; };
  float* x0 = packing ? padded_.f32(n) : hidden;  // the embedding runs padded, then is packed
  embed_tokens_.forward(ctx_, ids, x0, rows, /*accumulate=*/false);
  if (packing) pack_rows(ctx_, packing, x0, hidden, B, T, H);
  for (int64_t l = 0; l < L; ++l)
    layers_[static_cast<size_t>(l)]->forward(ctx_, state(l), positions, mask_add, state(l + 1), B, T, rng, packing);

  // Only sequence classification packs: the pooled rows are read from the unpacked state.
  head_.forward(ctx_, padded_rows(state(L), padded_, B, T, H), pooled_rows, logits, B, T, H, rng);
}

void DecoderClassifier::backward_logits(const Batch& batch, const float* dlogits) {
  const int64_t B = batch.B, T = batch.T, H = dims_.H, rows = B * T, n = rows * H, L = dims_.L;
  const TokenPacking* packing = packing_;
  const int64_t active = active_rows(packing, B, T), na = active * H;
  float* hidden = hidden_.f32((L + 1) * na);
  float* grads = grads_.f32(2 * na);
  float* dy = grads;
  const int32_t* ids =
      reinterpret_cast<const int32_t*>(ids_.u8(static_cast<int64_t>(ids_host_.size() * sizeof(int32_t))));
  const int32_t* positions = ids + rows;
  // d(last hidden): padded rows, then packed with a packing (only sequence classification packs).
  float* dlast = packing ? padded_.f32(n) : dy;
  head_.backward(ctx_, hidden + L * na, ids + rows + active, dlogits, dlast, B, T, H);
  if (packing) pack_rows(ctx_, packing, dlast, dy, B, T, H);
  grads_ready(head_);
  const bool embeddings_trainable = any_trainable_in(embed_tokens_);
  dy = backprop_layers(layers_, lowest_layer_to_backprop(layers_, embeddings_trainable), dy, grads, na,
                       [&](int64_t l, const float* d, float* dx) {
                         layers_[static_cast<size_t>(l)]->backward(ctx_, hidden + l * na, positions, d, dx, B, T, packing);
                       });
  if (!embeddings_trainable) return;
  embed_tokens_.backward(ctx_, ids, padded_rows(dy, padded_, B, T, H), rows);
}

}  // namespace accent
