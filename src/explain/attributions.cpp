#include "explain/attributions.h"

#include <algorithm>
#include <cstring>

#include "core/error.h"
#include "models/bert_embeddings.h"
#include "models/bert_encoder.h"
#include "nn/freeze.h"
#include "ops/memory.h"
#include "text/pre_tokenizers.h"
#include "text/unicode.h"

namespace accent {

const char* attribution_method_name(AttributionMethod m) {
  switch (m) {
    case AttributionMethod::AttentionLast: return "attention_last";
    case AttributionMethod::AttentionMean: return "attention_mean";
    case AttributionMethod::AttentionRollout: return "attention_rollout";
    case AttributionMethod::GradientXInput: return "gradient_x_input";
    case AttributionMethod::IntegratedGradients: return "integrated_gradients";
  }
  return "?";
}

const char* attribution_method_formula(AttributionMethod m) {
  switch (m) {
    case AttributionMethod::AttentionLast: return "mean over heads of the last layer's attention from [CLS]: mean_h P[L-1,h][0,t]";
    case AttributionMethod::AttentionMean: return "attention from [CLS] averaged over every layer and head: mean_{l,h} P[l,h][0,t]";
    case AttributionMethod::AttentionRollout:
      return "attention rollout (Abnar & Zuidema 2020): row 0 of A[L-1]...A[0], A[l] = (mean_h P[l,h] + I)/2";
    case AttributionMethod::GradientXInput: return "gradient x input on the word vectors: sum_d e[t,d] * d logit_c / d e[t,d]";
    case AttributionMethod::IntegratedGradients:
      return "integrated gradients (Sundararajan et al. 2017), zero word-vector baseline, trapezoid rule over m steps: "
             "sum_d e[t,d] * mean over the path of d logit_c / d e[t,d]";
  }
  return "?";
}

std::string token_text(const std::string& token, TokenizerFamily family) {
  if (family == TokenizerFamily::Bert || family == TokenizerFamily::DistilBert)
    return token.starts_with("##") ? token.substr(2) : token;
  // Byte-level BPE: each symbol stands for one byte (text/pre_tokenizers.h bytes_to_unicode); an added token's
  // text is kept as it is.
  std::string out;
  size_t i = 0;
  bool all_bytes = true;
  while (i < token.size()) {
    const unsigned char c = static_cast<unsigned char>(token[i]);
    const size_t n = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? c : c & (0xFF >> (n + 1));
    for (size_t k = 1; k < n && i + k < token.size(); ++k) cp = (cp << 6) | (static_cast<unsigned char>(token[i + k]) & 0x3F);
    const int byte = text::unicode_to_byte(cp);
    if (byte < 0) {
      all_bytes = false;
      break;
    }
    out.push_back(static_cast<char>(byte));
    i += n;
  }
  return all_bytes ? out : token;
}

std::vector<ExplainedWord> words_of(const Encoding& e, TokenizerFamily family) {
  std::vector<ExplainedWord> words;
  int32_t current = -1;
  for (size_t t = 0; t < e.size(); ++t) {
    const int32_t w = t < e.word_ids.size() ? e.word_ids[t] : -1;
    if (w < 0) {
      current = -1;
      continue;
    }
    if (w != current || words.empty()) {
      words.push_back({});
      current = w;
    }
    words.back().text += token_text(e.tokens[t], family);
    words.back().tokens.push_back(static_cast<int64_t>(t));
  }
  for (ExplainedWord& w : words) {  // byte-level words carry their leading space
    const size_t first = w.text.find_first_not_of(' ');
    w.text = first == std::string::npos ? w.text : w.text.substr(first);
  }
  return words;
}

std::vector<float> attention_rollout(const std::vector<std::vector<float>>& head_mean_maps, int64_t T) {
  // r = e₀ᵀ·Â^{L−1}·…·Â^0, evaluated from the left: one vector–matrix product per layer.
  std::vector<float> r(static_cast<size_t>(T), 0.0f), next(static_cast<size_t>(T));
  if (T == 0) return r;
  r[0] = 1.0f;
  for (auto layer = head_mean_maps.rbegin(); layer != head_mean_maps.rend(); ++layer) {
    const std::vector<float>& A = *layer;
    std::fill(next.begin(), next.end(), 0.0f);
    for (int64_t i = 0; i < T; ++i) {
      if (r[i] == 0.0f) continue;
      for (int64_t j = 0; j < T; ++j) next[j] += r[i] * 0.5f * A[i * T + j];
      next[i] += r[i] * 0.5f;  // the identity half
    }
    r.swap(next);
  }
  return r;
}

Explainer::Explainer(TransformerClassifier& model, const Tokenizer& tokenizer, int64_t max_tokens)
    : model_(model), tokenizer_(tokenizer), modules_(model.encoder_modules()), max_tokens_(max_tokens) {
  ACCENT_CHECK(modules_.embeddings && modules_.encoder, "explain: ", model.architecture(),
               " is not supported yet (the BERT-encoder families are: BERT, RoBERTa/XLM-R, ELECTRA, DistilBERT)");
  ACCENT_CHECK(model.op_context().backend != Backend::Cuda, "explain runs on the CPU (the model is on the GPU)");
  for (Parameter* p : model.parameters()) freeze(*p);  // backward then computes input gradients only
  // Rollout and the attention maps read every query row of every layer: the last layer must not be cut to the
  // head's row (models/bert_encoder.h), so the model runs its padded path.
  model.set_unpadded_execution(false);
  // Gradients run backward_from_logits after forward, and the maps read every layer's probabilities afterwards.
  model.set_keep_layer_activations(true);
  E_ = modules_.embeddings->word.weight.value.shape()[1];
}

int64_t Explainer::layers() const { return static_cast<int64_t>(modules_.encoder->layers.size()); }
int64_t Explainer::heads() const { return modules_.encoder->layers.at(0)->attention.self.heads(); }

Encoding Explainer::encode(const std::string& text) const {
  EncodeOptions o;
  o.max_length = max_tokens_;
  o.truncation = TruncationStrategy::LongestFirst;
  return tokenizer_.encode(text, std::nullopt, o);
}

std::vector<float> Explainer::word_vectors(const std::vector<int32_t>& ids) const {
  const Parameter& table = modules_.embeddings->word.weight;
  const int64_t V = table.value.shape()[0];
  std::vector<float> out(ids.size() * static_cast<size_t>(E_));
  for (size_t t = 0; t < ids.size(); ++t) {
    ACCENT_CHECK(ids[t] >= 0 && ids[t] < V, "explain: token id ", ids[t], " is outside the word embeddings (", V, ")");
    std::memcpy(&out[t * E_], table.value.f32() + ids[t] * E_, static_cast<size_t>(E_) * sizeof(float));
  }
  return out;
}

std::vector<float> Explainer::forward_backward(const Batch& batch, const float* vectors, std::vector<int64_t>* targets,
                                               std::vector<float>* grad) {
  BertEmbeddings& emb = *modules_.embeddings;
  const int64_t C = model_.num_labels();
  emb.set_word_vectors(vectors);
  std::vector<float> logits;
  try {
    const ForwardResult r = model_.forward(batch);
    logits.assign(r.logits.f32(), r.logits.f32() + batch.B * C);
    if (targets) {
      std::vector<float> dlogits(static_cast<size_t>(batch.B * C), 0.0f);
      for (int64_t b = 0; b < batch.B; ++b) {
        int64_t& c = (*targets)[b];
        if (c < 0) c = std::max_element(&logits[b * C], &logits[b * C] + C) - &logits[b * C];
        ACCENT_CHECK(c < C, "explain: target class ", c, " is outside 0..", C - 1);
        dlogits[b * C + c] = 1.0f;
      }
      grad->assign(static_cast<size_t>(batch.B * batch.T * E_), 0.0f);
      emb.set_word_vectors_grad(grad->data());
      model_.backward_from_logits(batch, dlogits.data());
    }
  } catch (...) {
    emb.set_word_vectors(nullptr);
    emb.set_word_vectors_grad(nullptr);
    throw;
  }
  emb.set_word_vectors(nullptr);
  emb.set_word_vectors_grad(nullptr);
  return logits;
}

namespace {

Batch batch_of(const std::vector<const Encoding*>& encodings, int32_t pad_id, bool token_types) {
  Batch b;
  b.B = static_cast<int64_t>(encodings.size());
  for (const Encoding* e : encodings) b.T = std::max<int64_t>(b.T, static_cast<int64_t>(e->size()));
  b.input_ids.assign(static_cast<size_t>(b.B * b.T), pad_id);
  b.attention_mask.assign(static_cast<size_t>(b.B * b.T), 0);
  if (token_types) b.token_type_ids.assign(static_cast<size_t>(b.B * b.T), 0);
  for (int64_t i = 0; i < b.B; ++i) {
    const Encoding& e = *encodings[i];
    for (size_t t = 0; t < e.size(); ++t) {
      b.input_ids[i * b.T + t] = e.ids[t];
      b.attention_mask[i * b.T + t] = 1;
      if (token_types && t < e.type_ids.size()) b.token_type_ids[i * b.T + t] = e.type_ids[t];
    }
  }
  return b;
}

int64_t argmax(const float* v, int64_t n) { return std::max_element(v, v + n) - v; }

}  // namespace

TextExplanation Explainer::explain(const std::string& text, const ExplainOptions& options) {
  ACCENT_CHECK(options.ig_steps >= 1, "explain: --ig-steps must be at least 1, got ", options.ig_steps);
  TextExplanation x;
  x.encoding = encode(text);
  const Encoding& enc = x.encoding;
  const int64_t T = static_cast<int64_t>(enc.size()), C = model_.num_labels(), L = layers(), NH = heads();
  const int32_t pad = tokenizer_.pad_token_id().value_or(0);
  const Batch one = batch_of({&enc}, pad, tokenizer_.returns_token_type_ids());
  x.layers = L;
  x.heads = NH;

  // 1. Plain forward: logits and every layer's attention.
  x.logits = forward_backward(one, nullptr, nullptr, nullptr);
  x.target = options.target ? *options.target : argmax(x.logits.data(), C);
  ACCENT_CHECK(x.target >= 0 && x.target < C, "explain: target class ", x.target, " is outside 0..", C - 1);
  x.token_scores.assign(kAttributionMethods, std::vector<float>(static_cast<size_t>(T), 0.0f));
  std::vector<std::vector<float>> head_means(static_cast<size_t>(L), std::vector<float>(static_cast<size_t>(T * T)));
  if (options.keep_attention) x.attention.resize(static_cast<size_t>(L * NH * T * T));
  auto& last = x.token_scores[static_cast<int>(AttributionMethod::AttentionLast)];
  auto& mean = x.token_scores[static_cast<int>(AttributionMethod::AttentionMean)];
  for (int64_t l = 0; l < L; ++l) {
    const float* P = modules_.encoder->layers[l]->attention.self.core().probs();  // (1, NH, T, T)
    if (options.keep_attention) std::copy(P, P + NH * T * T, x.attention.begin() + l * NH * T * T);
    for (int64_t h = 0; h < NH; ++h)
      for (int64_t i = 0; i < T * T; ++i) head_means[l][i] += P[h * T * T + i] / static_cast<float>(NH);
    for (int64_t t = 0; t < T; ++t) {
      mean[t] += head_means[l][t] / static_cast<float>(L);  // row 0 of the head mean
      if (l == L - 1) last[t] = head_means[l][t];
    }
  }
  x.token_scores[static_cast<int>(AttributionMethod::AttentionRollout)] = attention_rollout(head_means, T);

  // 2. The integrated-gradients path e(α_k) = α_k·e, α_k = k/m (k = 0..m), in chunks; α = 1 is the input itself,
  // so its gradient is also gradient × input's.
  const int64_t m = options.ig_steps;
  const std::vector<float> e = word_vectors(enc.ids);
  std::vector<double> path_sum(static_cast<size_t>(T * E_), 0.0);  // Σ_k w_k·g_k (trapezoid weights)
  std::vector<float> grad_at_input;
  const int64_t chunk = std::max<int64_t>(1, options.ig_batch);
  for (int64_t k0 = 0; k0 <= m; k0 += chunk) {
    const int64_t n = std::min(chunk, m + 1 - k0);
    std::vector<const Encoding*> rows(static_cast<size_t>(n), &enc);
    const Batch batch = batch_of(rows, pad, tokenizer_.returns_token_type_ids());
    std::vector<float> vectors(static_cast<size_t>(n * T * E_));
    for (int64_t r = 0; r < n; ++r) {
      const float alpha = static_cast<float>(k0 + r) / static_cast<float>(m);
      for (int64_t i = 0; i < T * E_; ++i) vectors[r * T * E_ + i] = alpha * e[i];
    }
    std::vector<int64_t> targets(static_cast<size_t>(n), x.target);
    std::vector<float> grad;
    const std::vector<float> logits = forward_backward(batch, vectors.data(), &targets, &grad);
    for (int64_t r = 0; r < n; ++r) {
      const int64_t k = k0 + r;
      const double w = (k == 0 || k == m) ? 0.5 : 1.0;
      for (int64_t i = 0; i < T * E_; ++i) path_sum[i] += w * grad[r * T * E_ + i];
      if (k == 0) x.f_baseline = logits[r * C + x.target];
      if (k == m) {
        x.f_input = logits[r * C + x.target];
        grad_at_input.assign(grad.begin() + r * T * E_, grad.begin() + (r + 1) * T * E_);
      }
    }
  }
  auto& gxi = x.token_scores[static_cast<int>(AttributionMethod::GradientXInput)];
  auto& ig = x.token_scores[static_cast<int>(AttributionMethod::IntegratedGradients)];
  x.ig_sum = 0;
  for (int64_t t = 0; t < T; ++t) {
    double g = 0, s = 0;
    for (int64_t d = 0; d < E_; ++d) {
      g += static_cast<double>(e[t * E_ + d]) * grad_at_input[t * E_ + d];
      s += static_cast<double>(e[t * E_ + d]) * path_sum[t * E_ + d] / static_cast<double>(m);
    }
    gxi[t] = static_cast<float>(g);
    ig[t] = static_cast<float>(s);
    x.ig_sum += s;
  }
  x.ig_steps = m;
  x.ig_completeness_error = std::abs(x.ig_sum - (x.f_input - x.f_baseline));

  // 3. Words.
  x.words = words_of(enc, tokenizer_.family());
  x.word_scores.assign(kAttributionMethods, std::vector<float>(x.words.size(), 0.0f));
  for (int method = 0; method < kAttributionMethods; ++method)
    for (size_t w = 0; w < x.words.size(); ++w)
      for (int64_t t : x.words[w].tokens) x.word_scores[method][w] += x.token_scores[method][t];
  return x;
}

Explainer::BatchAttention Explainer::run_batch(const std::vector<std::string>& texts, bool gradients,
                                               bool keep_attention, const std::vector<int64_t>& targets) {
  BatchAttention out;
  const int64_t n = static_cast<int64_t>(texts.size()), C = model_.num_labels(), L = layers(), NH = heads();
  if (n == 0) return out;
  for (const std::string& t : texts) out.encodings.push_back(encode(t));
  std::vector<const Encoding*> rows;
  for (const Encoding& e : out.encodings) rows.push_back(&e);
  const Batch batch = batch_of(rows, tokenizer_.pad_token_id().value_or(0), tokenizer_.returns_token_type_ids());
  const int64_t T = batch.T;
  std::vector<float> vectors;
  if (gradients) {  // the looked-up word vectors, given explicitly so that their gradient comes back
    vectors.resize(static_cast<size_t>(n * T * E_));
    for (int64_t b = 0; b < n; ++b) {
      const std::vector<float> v = word_vectors(std::vector<int32_t>(batch.input_ids.begin() + b * T,
                                                                     batch.input_ids.begin() + (b + 1) * T));
      std::copy(v.begin(), v.end(), vectors.begin() + b * T * E_);
    }
  }
  // One forward (and backward with gradients): targets −1 become the predicted class of that forward. Backward
  // leaves the attention probabilities as the forward wrote them.
  std::vector<int64_t> chosen(static_cast<size_t>(n), -1);
  for (int64_t b = 0; b < n && b < static_cast<int64_t>(targets.size()); ++b) chosen[b] = targets[b];
  std::vector<float> grad;
  const std::vector<float> logits =
      forward_backward(batch, gradients ? vectors.data() : nullptr, gradients ? &chosen : nullptr, &grad);
  out.logits.resize(static_cast<size_t>(n));
  out.cls_attention.resize(static_cast<size_t>(n));
  if (keep_attention) out.attention.resize(static_cast<size_t>(n));
  for (int64_t b = 0; b < n; ++b) {
    const int64_t Ti = static_cast<int64_t>(out.encodings[b].size());
    out.logits[b].assign(logits.begin() + b * C, logits.begin() + (b + 1) * C);
    out.cls_attention[b].resize(static_cast<size_t>(L * NH * Ti));
    if (keep_attention) out.attention[b].resize(static_cast<size_t>(L * NH * Ti * Ti));
    for (int64_t l = 0; l < L; ++l) {
      const float* P = modules_.encoder->layers[l]->attention.self.core().probs();  // (B, NH, T, T)
      for (int64_t h = 0; h < NH; ++h) {
        const float* map = P + ((b * NH + h) * T) * T;
        std::copy(map, map + Ti, out.cls_attention[b].begin() + (l * NH + h) * Ti);
        if (keep_attention)
          for (int64_t i = 0; i < Ti; ++i)
            std::copy(map + i * T, map + i * T + Ti, out.attention[b].begin() + ((l * NH + h) * Ti + i) * Ti);
      }
    }
  }
  if (!gradients) return out;
  out.grad_x_input.resize(static_cast<size_t>(n));
  for (int64_t b = 0; b < n; ++b) {
    const int64_t Ti = static_cast<int64_t>(out.encodings[b].size());
    out.grad_x_input[b].assign(static_cast<size_t>(Ti), 0.0f);
    for (int64_t t = 0; t < Ti; ++t) {
      double s = 0;
      for (int64_t d = 0; d < E_; ++d) s += static_cast<double>(vectors[(b * T + t) * E_ + d]) * grad[(b * T + t) * E_ + d];
      out.grad_x_input[b][t] = static_cast<float>(s);
    }
  }
  return out;
}

}  // namespace accent
