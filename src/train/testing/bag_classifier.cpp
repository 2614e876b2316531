#include "train/testing/bag_classifier.h"

#include <cmath>
#include <vector>

#include "core/error.h"

namespace accent::testing {

namespace {
Parameter make_param(const std::string& name, Shape shape, bool decay) {
  Parameter p;
  p.name = name;
  p.value = Tensor::zeros(shape);
  p.grad = Tensor::zeros(shape);
  p.decay = decay;
  return p;
}
}  // namespace

BagClassifier::BagClassifier(const BagClassifierConfig& config)
    : config_(config),
      embeddings_(make_param("embeddings.weight", {config.vocab_size, config.hidden_size}, true)),
      classifier_weight_(make_param("classifier.weight", {config.num_labels, config.hidden_size}, true)),
      classifier_bias_(make_param("classifier.bias", {config.num_labels}, false)) {
  Rng rng(config.init_seed);
  for (Parameter* p : {&embeddings_, &classifier_weight_}) {
    float* v = p->value.f32();
    for (int64_t i = 0; i < p->value.numel(); ++i) v[i] = config.init_std * rng.normal();
  }
}

ForwardResult BagClassifier::forward(const Batch& batch) { return run(batch, nullptr, false); }

ForwardResult BagClassifier::forward_backward(const Batch& batch, Rng& dropout_rng) {
  return run(batch, &dropout_rng, true);
}

ForwardResult BagClassifier::run(const Batch& batch, Rng* dropout_rng, bool backward) {
  const int64_t B = batch.B, T = batch.T, H = config_.hidden_size, C = config_.num_labels, V = config_.vocab_size;
  ACCENT_CHECK(static_cast<int64_t>(batch.input_ids.size()) == B * T, "BagClassifier: input_ids has ",
               batch.input_ids.size(), " entries, expected B·T = ", B * T);
  const float* E = embeddings_.value.f32();        // (V, H)
  const float* W = classifier_weight_.value.f32();  // (C, H)
  const float* bias = classifier_bias_.value.f32();  // (C)

  // Mean-pooled embeddings over real tokens.
  std::vector<float> pooled(B * H, 0.0f);  // (B, H)
  std::vector<float> count(B, 0.0f);       // (B)
  for (int64_t b = 0; b < B; ++b) {
    for (int64_t t = 0; t < T; ++t) {
      if (!batch.attention_mask.empty() && batch.attention_mask[b * T + t] == 0) continue;
      const int32_t id = batch.input_ids[b * T + t];
      ACCENT_CHECK(id >= 0 && id < V, "BagClassifier: token id ", id, " at (", b, ", ", t, ") outside [0, ", V, ")");
      for (int64_t h = 0; h < H; ++h) pooled[b * H + h] += E[id * H + h];
      count[b] += 1.0f;
    }
    if (count[b] > 0)
      for (int64_t h = 0; h < H; ++h) pooled[b * H + h] /= count[b];
  }
  // Inverted dropout: keep with probability 1 − p, scale kept values by 1/(1 − p).
  std::vector<float> keep_scale(B * H, 1.0f);  // (B, H)
  if (dropout_rng && config_.dropout > 0.0f) {
    const float scale = 1.0f / (1.0f - config_.dropout);
    for (int64_t i = 0; i < B * H; ++i) keep_scale[i] = dropout_rng->uniform() < config_.dropout ? 0.0f : scale;
  }
  std::vector<float> hidden(B * H);  // (B, H)
  for (int64_t i = 0; i < B * H; ++i) hidden[i] = pooled[i] * keep_scale[i];

  ForwardResult out;
  out.logits = Tensor::zeros({B, C});
  float* z = out.logits.f32();  // (B, C)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      double acc = bias[c];
      for (int64_t h = 0; h < H; ++h) acc += static_cast<double>(W[c * H + h]) * hidden[b * H + h];
      z[b * C + c] = static_cast<float>(acc);
    }

  // Loss and dL/dlogits.
  std::vector<double> dz(B * C, 0.0);  // (B, C)
  double loss = 0.0;
  bool has_loss = false;
  if (config_.problem_type == ProblemType::SingleLabel && !batch.class_labels.empty()) {
    int64_t n = 0;
    for (int64_t b = 0; b < B; ++b) n += batch.class_labels[b] != -100;
    for (int64_t b = 0; b < B && n > 0; ++b) {
      const int64_t y = batch.class_labels[b];
      if (y == -100) continue;
      ACCENT_CHECK(y >= 0 && y < C, "BagClassifier: label ", y, " outside [0, ", C, ")");
      double mx = z[b * C];
      for (int64_t c = 1; c < C; ++c) mx = std::max(mx, static_cast<double>(z[b * C + c]));
      double sum = 0.0;
      for (int64_t c = 0; c < C; ++c) sum += std::exp(z[b * C + c] - mx);
      loss += (std::log(sum) + mx - z[b * C + y]) / n;
      for (int64_t c = 0; c < C; ++c) dz[b * C + c] = (std::exp(z[b * C + c] - mx) / sum - (c == y)) / n;
    }
    has_loss = true;
  } else if (config_.problem_type != ProblemType::SingleLabel && !batch.float_labels.empty()) {
    ACCENT_CHECK(static_cast<int64_t>(batch.float_labels.size()) == B * C, "BagClassifier: float_labels has ",
                 batch.float_labels.size(), " entries, expected B·C = ", B * C);
    const double n = static_cast<double>(B * C);
    for (int64_t i = 0; i < B * C; ++i) {
      const double x = z[i], y = batch.float_labels[i];
      if (config_.problem_type == ProblemType::MultiLabel) {
        // BCE with logits, stable form: max(x, 0) − x·y + log(1 + e^{−|x|}); d/dx = σ(x) − y.
        loss += (std::max(x, 0.0) - x * y + std::log1p(std::exp(-std::fabs(x)))) / n;
        dz[i] = (1.0 / (1.0 + std::exp(-x)) - y) / n;
      } else {
        loss += (x - y) * (x - y) / n;
        dz[i] = 2.0 * (x - y) / n;
      }
    }
    has_loss = true;
  }
  out.loss = static_cast<float>(loss);
  out.has_loss = has_loss;
  if (!backward || !has_loss) return out;

  float* dE = embeddings_.grad.f32();
  float* dW = classifier_weight_.grad.f32();
  float* db = classifier_bias_.grad.f32();
  std::vector<double> dpooled(B * H, 0.0);  // (B, H)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      const double g = dz[b * C + c];
      db[c] += static_cast<float>(g);
      for (int64_t h = 0; h < H; ++h) {
        dW[c * H + h] += static_cast<float>(g * hidden[b * H + h]);
        dpooled[b * H + h] += g * W[c * H + h] * keep_scale[b * H + h];
      }
    }
  for (int64_t b = 0; b < B; ++b) {
    if (count[b] == 0) continue;
    for (int64_t t = 0; t < T; ++t) {
      if (!batch.attention_mask.empty() && batch.attention_mask[b * T + t] == 0) continue;
      const int32_t id = batch.input_ids[b * T + t];
      for (int64_t h = 0; h < H; ++h) dE[id * H + h] += static_cast<float>(dpooled[b * H + h] / count[b]);
    }
  }
  return out;
}

}  // namespace accent::testing
