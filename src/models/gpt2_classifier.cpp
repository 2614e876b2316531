#include "models/gpt2_classifier.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "models/config_values.h"
#include "nn/freeze.h"
#include "ops/attention_softmax.h"
#include "ops/embedding.h"
#include "ops/memory.h"

namespace accent {

namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

Gpt2Dims gpt2_dims(const ModelConfig& c, const std::string& origin) {
  Gpt2Dims d;
  d.V = c.vocab_size, d.H = c.hidden_size, d.L = c.num_hidden_layers, d.NH = c.num_attention_heads;
  d.I = c.intermediate_size, d.P = c.max_position_embeddings, d.C = c.num_labels();
  d.pad = c.pad_token_id.value_or(-1);
  d.eps = static_cast<float>(c.layer_norm_eps);
  d.resid_dropout = static_cast<float>(c.hidden_dropout_prob);
  d.attn_dropout = static_cast<float>(c.attention_probs_dropout_prob);
  d.embd_dropout = static_cast<float>(extra_number(c, "embd_pdrop", 0.1));
  d.scale_attn_weights = extra_bool(c, "scale_attn_weights", true);
  d.scale_by_inverse_layer_idx = extra_bool(c, "scale_attn_by_inverse_layer_idx", false);
  d.act = activation_from_name(c.hidden_act);
  ACCENT_CHECK(d.V > 0 && d.H > 0 && d.L >= 0 && d.NH > 0 && d.I > 0 && d.P > 0, origin,
               ": model sizes must be positive (vocab_size ", d.V, ", n_embd ", d.H, ", n_head ", d.NH, ", n_inner ",
               d.I, ", n_positions ", d.P, ")");
  ACCENT_CHECK(d.H % d.NH == 0, origin, ": n_embd ", d.H, " is not a multiple of n_head ", d.NH);
  ACCENT_CHECK(d.C >= 1, origin, ": num_labels must be at least 1 (id2label is empty)");
  ACCENT_CHECK(d.pad < d.V, origin, ": pad_token_id ", d.pad, " is outside the vocabulary (vocab_size ", d.V, ")");
  for (float p : {d.resid_dropout, d.attn_dropout, d.embd_dropout})
    ACCENT_CHECK(p >= 0.0f && p < 1.0f, origin, ": dropout probabilities must be in [0, 1), got ", p);
  return d;
}

PerTokenHead make_token_head(const ModelConfig& c, const Gpt2Dims& d, ModelTask task) {
  switch (task) {
    case ModelTask::SequenceClassification: return PerTokenHead();
    case ModelTask::TokenClassification: return PerTokenHead("classifier", d.H, d.C, token_head_dropout(c));
    case ModelTask::QuestionAnswering: return PerTokenHead("qa_outputs", d.H, 2, 0.0f);
  }
  return PerTokenHead();
}

}  // namespace

Gpt2Classifier::Gpt2Classifier(ModelConfig config, ModelTask task, const std::string& origin)
    : TransformerClassifier(with_eos_as_pad(std::move(config), "GPT-2", origin), task),
      dims_(gpt2_dims(config_, origin)),
      wte_("transformer.wte", dims_.V, dims_.H),
      wpe_("transformer.wpe", dims_.P, dims_.H),
      head_(task, LayerNorm("transformer.ln_f", dims_.H, dims_.eps),
            task == ModelTask::SequenceClassification ? Linear("score", dims_.H, dims_.C, /*bias=*/false) : Linear(),
            make_token_head(config_, dims_, task)),
      embd_dropout_(dims_.embd_dropout) {
  for (int64_t l = 0; l < dims_.L; ++l)
    blocks_.push_back(std::make_unique<Gpt2Block>("transformer.h." + std::to_string(l), dims_, l));
}

void Gpt2Classifier::init_parameter(Parameter& p, const Rng& rng) const {
  float stddev = static_cast<float>(config_.initializer_range);
  if (ends_with(p.name, "c_proj.weight")) stddev /= std::sqrt(2.0f * static_cast<float>(std::max<int64_t>(1, dims_.L)));
  const bool is_norm = ends_with(p.name, "ln_1.weight") || ends_with(p.name, "ln_1.bias") ||
                       ends_with(p.name, "ln_2.weight") || ends_with(p.name, "ln_2.bias") ||
                       ends_with(p.name, "ln_f.weight") || ends_with(p.name, "ln_f.bias");
  init_standard(p, rng, stddev, is_norm);
}

void Gpt2Classifier::collect(ParameterList& out) {
  wte_.collect(out);
  wpe_.collect(out);
  for (auto& block : blocks_) block->collect(out);
  head_.collect(out);
}

std::vector<NamedLinear> Gpt2Classifier::linear_modules() {
  std::vector<NamedLinear> out;
  auto module_name = [](const Parameter& weight) { return weight.name.substr(0, weight.name.size() - 7); };
  for (auto& block : blocks_)
    for (Conv1D* c : {&block->c_attn, &block->attn_c_proj, &block->c_fc, &block->mlp_c_proj})
      out.push_back(NamedLinear{module_name(c->weight), nullptr, c});
  Linear& head = head_.head_linear();
  out.push_back(NamedLinear{module_name(head.weight), &head, nullptr, /*head=*/true});
  return out;
}

std::vector<int64_t> Gpt2Classifier::head_positions(const Batch& batch) const {
  return last_non_pad_positions(batch, dims_.pad);
}

const float* Gpt2Classifier::head_mask(const Batch& batch, const std::vector<int64_t>& last) {
  const int64_t B = batch.B, T = batch.T;
  head_mask_host_.resize(static_cast<size_t>(B * T));
  attention_additive_mask(batch.attention_mask.empty() ? nullptr : batch.attention_mask.data(), head_mask_host_.data(),
                          B, T);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = last[static_cast<size_t>(b)] + 1; t < T; ++t)
      head_mask_host_[static_cast<size_t>(b * T + t)] += kAttentionMaskMin;  // after the query: never attended
  float* mask = head_mask_.f32(B * T);
  copy_from_host(ctx_, mask, head_mask_host_.data(), head_mask_host_.size() * sizeof(float));
  return mask;
}

void Gpt2Classifier::forward_logits(const Batch& batch, const float* mask_add, float* logits,
                                                   Rng* rng) {
  const int64_t B = batch.B, T = batch.T, H = dims_.H, rows = B * T, n = rows * H, L = dims_.L;
  const TokenPacking* packing = packing_;
  const int64_t na = active_rows(packing, B, T) * H;  // the blocks' rows × H
  ACCENT_CHECK(T <= dims_.P, "sequence length ", T, " is longer than n_positions ", dims_.P,
               " (truncate the inputs to at most ", dims_.P, " tokens)");
  ids_host_.resize(static_cast<size_t>(2 * rows + B));
  int32_t* ids = ids_host_.data();
  int32_t *positions = ids + rows, *pooled_rows = ids + 2 * rows;
  std::copy(batch.input_ids.begin(), batch.input_ids.end(), ids);
  const std::vector<int64_t> last = head_positions(batch);
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) positions[b * T + t] = static_cast<int32_t>(t);
    pooled_rows[b] = static_cast<int32_t>(b * T + last[static_cast<size_t>(b)]);
  }
  const size_t id_bytes = ids_host_.size() * sizeof(int32_t);
  ids = reinterpret_cast<int32_t*>(ids_.u8(static_cast<int64_t>(id_bytes)));
  copy_from_host(ctx_, ids, ids_host_.data(), id_bytes);
  positions = ids + rows, pooled_rows = ids + 2 * rows;

  // X0 and every block output; in inference (nn/scratch.h InferenceScratch) no backward reads them, so two slots
  // alternate.
  const int64_t kept = InferenceScratch::active() ? std::min<int64_t>(L + 1, 2) : L + 1;
  float* hidden = hidden_.f32(kept * na);
  auto state = [&](int64_t l) { return hidden + (l % kept) * na; };
  float* x0 = packing ? padded_.f32(n) : hidden;  // embeddings run padded, then are packed
  wte_.forward(ctx_, ids, x0, rows, /*accumulate=*/false);
  wpe_.forward(ctx_, positions, x0, rows, /*accumulate=*/true);
  embd_dropout_.forward(ctx_, x0, x0, n, rng);
  if (packing) pack_rows(ctx_, packing, x0, hidden, B, T, H);
  const HeadRows* head_rows = L > 0 ? head_rows_ : nullptr;
  for (int64_t l = 0; l < L - (head_rows ? 1 : 0); ++l)
    blocks_[l]->forward(ctx_, state(l), mask_add, state(l + 1), B, T, rng, packing);
  if (head_rows) {  // the last block computes the pooled rows only: they are X[b, last_b]
    blocks_[L - 1]->forward_head_rows(ctx_, state(L - 1), head_mask(batch, last), *head_rows,
                                      head_.pooled_input(B, H), B, T, rng, packing);
    head_.forward_pooled(ctx_, logits, B, H);
    return;
  }

  // Only sequence classification packs: the pooled rows are read from the unpacked state.
  head_.forward(ctx_, padded_rows(state(L), padded_, B, T, H), pooled_rows, logits, B, T, H, rng);
}

void Gpt2Classifier::backward_logits(const Batch& batch, const float* dlogits) {
  const int64_t B = batch.B, T = batch.T, H = dims_.H, rows = B * T, n = rows * H, L = dims_.L;
  const TokenPacking* packing = packing_;
  const int64_t na = active_rows(packing, B, T) * H;  // the blocks' rows × H
  float* hidden = hidden_.f32((L + 1) * na);
  float* grads = grads_.f32(2 * na);
  float* dy = grads;
  const int32_t* ids = reinterpret_cast<const int32_t*>(ids_.u8(static_cast<int64_t>(ids_host_.size() * sizeof(int32_t))));
  if (head_rows_ && L > 0 && task_ == ModelTask::SequenceClassification) {
    dy = head_.backward_pooled(ctx_, dlogits, B, H);  // the last block took the pooled rows only
  } else {
    // d(last hidden): padded rows, then packed with a packing (only sequence classification packs).
    float* dlast = packing ? padded_.f32(n) : dy;
    head_.backward(ctx_, hidden + L * na, ids + 2 * rows, dlogits, dlast, B, T, H);
    if (packing) pack_rows(ctx_, packing, dlast, dy, B, T, H);
  }
  grads_ready(head_);
  const bool embeddings_trainable = any_trainable_in(wte_, wpe_);
  dy = backprop_layers(blocks_, lowest_layer_to_backprop(blocks_, embeddings_trainable), dy, grads, na,
                       [&](int64_t l, const float* d, float* dx) {
                         if (l == L - 1 && head_rows_ && task_ == ModelTask::SequenceClassification)
                           blocks_[l]->backward_head_rows(ctx_, hidden + l * na, d, dx, *head_rows_, B, T, packing);
                         else
                           blocks_[l]->backward(ctx_, hidden + l * na, d, dx, B, T, packing);
                       });
  if (!embeddings_trainable) return;
  float* d0 = padded_rows(dy, padded_, B, T, H);
  embd_dropout_.backward(ctx_, d0, d0, n);
  wte_.backward(ctx_, ids, d0, rows);
  wpe_.backward(ctx_, ids + rows, d0, rows);
}

}  // namespace accent
