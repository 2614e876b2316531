#include "explain/attention_profile.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

#include "core/error.h"

namespace accent {

double js_divergence_bits(const float* p, const float* q, int64_t n) {
  double js = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double a = p[i], b = q[i], m = 0.5 * (a + b);
    if (a > 0) js += 0.5 * a * std::log2(a / m);
    if (b > 0) js += 0.5 * b * std::log2(b / m);
  }
  return std::max(0.0, js);
}

namespace {

// Running sums of one (label, word): Σ base, Σ tuned, Σ diff, Σ diff², Σ attribution.
struct WordSums {
  int64_t n = 0;
  double base = 0, tuned = 0, diff = 0, diff2 = 0, attribution = 0;
  void add(double b, double t, double a) {
    ++n;
    base += b;
    tuned += t;
    diff += t - b;
    diff2 += (t - b) * (t - b);
    attribution += a;
  }
};

WordShift shift_of(const std::string& word, const WordSums& s) {
  WordShift w;
  w.word = word;
  w.count = s.n;
  const double n = static_cast<double>(s.n);
  w.mean_base = s.base / n;
  w.mean_tuned = s.tuned / n;
  w.mean_diff = s.diff / n;
  w.attribution = s.attribution / n;
  const double var = s.n > 1 ? std::max(0.0, (s.diff2 - n * w.mean_diff * w.mean_diff) / (n - 1)) : 0.0;
  w.effect = var > 0 ? w.mean_diff / std::sqrt(var) : 0.0;
  return w;
}

LabelProfile rank(const std::string& label, int64_t rows, const std::map<std::string, WordSums>& words,
                  const ProfileOptions& o) {
  LabelProfile p;
  p.label = label;
  p.rows = rows;
  std::vector<WordShift> all;
  for (const auto& [word, sums] : words)
    if (sums.n >= o.min_count) all.push_back(shift_of(word, sums));
  auto take = [&](auto keep, auto before) {
    std::vector<WordShift> v;
    for (const WordShift& w : all)
      if (keep(w)) v.push_back(w);
    std::stable_sort(v.begin(), v.end(), before);
    if (static_cast<int64_t>(v.size()) > o.top) v.resize(static_cast<size_t>(o.top));
    return v;
  };
  p.increased = take([](const WordShift& w) { return w.mean_diff > 0; },
                     [](const WordShift& a, const WordShift& b) { return a.mean_diff > b.mean_diff; });
  p.decreased = take([](const WordShift& w) { return w.mean_diff < 0; },
                     [](const WordShift& a, const WordShift& b) { return a.mean_diff < b.mean_diff; });
  p.attributed = take([](const WordShift&) { return true; },
                      [](const WordShift& a, const WordShift& b) { return a.attribution > b.attribution; });
  return p;
}

}  // namespace

AttentionProfile attention_profile(Explainer& tuned, Explainer& base, const std::vector<std::string>& texts,
                                   const std::vector<std::string>& labels, const std::vector<int64_t>& label_ids,
                                   const ProfileOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  ACCENT_CHECK(texts.size() == labels.size() && texts.size() == label_ids.size(), "attention profile: ",
               texts.size(), " texts but ", labels.size(), " labels");
  const int64_t L = tuned.layers(), NH = tuned.heads();
  ACCENT_CHECK(base.layers() == L && base.heads() == NH, "attention profile: the base model has ", base.layers(),
               " layers × ", base.heads(), " heads, the fine-tuned model ", L, " × ", NH,
               " (the base must be the model that was fine-tuned)");
  AttentionProfile out;
  out.layers = L;
  out.heads = NH;
  out.head_divergence.assign(static_cast<size_t>(L * NH), 0.0);
  std::map<std::string, std::map<std::string, WordSums>> by_label;  // label → word → sums
  std::map<std::string, WordSums> overall;
  std::map<std::string, int64_t> rows_of_label;
  int64_t query_rows = 0;  // Σ over texts of their real tokens (the divergence's denominator)
  const size_t step = static_cast<size_t>(std::max<int64_t>(1, options.batch_size));
  for (size_t i0 = 0; i0 < texts.size(); i0 += step) {
    const size_t n = std::min(step, texts.size() - i0);
    const std::vector<std::string> chunk(texts.begin() + i0, texts.begin() + i0 + n);
    const std::vector<int64_t> targets(label_ids.begin() + i0, label_ids.begin() + i0 + n);
    const auto t = tuned.run_batch(chunk, true, true, targets);
    const auto b = base.run_batch(chunk, false, true);
    for (size_t k = 0; k < n; ++k) {
      const Encoding& enc = t.encodings[k];
      ACCENT_CHECK(b.encodings[k].ids == enc.ids, "attention profile: row ", i0 + k + 1,
                   " tokenizes differently for the base model");
      const int64_t T = static_cast<int64_t>(enc.size());
      // A(t) = mean_{l,h} P[l,h][0,t] for both models.
      std::vector<double> at(static_cast<size_t>(T), 0.0), ab(static_cast<size_t>(T), 0.0);
      for (int64_t lh = 0; lh < L * NH; ++lh)
        for (int64_t j = 0; j < T; ++j) {
          at[j] += t.cls_attention[k][lh * T + j] / static_cast<double>(L * NH);
          ab[j] += b.cls_attention[k][lh * T + j] / static_cast<double>(L * NH);
        }
      const std::string& label = labels[i0 + k];
      ++rows_of_label[label];
      for (const ExplainedWord& w : words_of(enc, tuned.tokenizer().family())) {
        double sb = 0, st = 0, sa = 0;
        for (int64_t tok : w.tokens) sb += ab[tok], st += at[tok], sa += t.grad_x_input[k][tok];
        by_label[label][w.text].add(sb, st, sa);
        overall[w.text].add(sb, st, sa);
      }
      for (int64_t lh = 0; lh < L * NH; ++lh)
        for (int64_t q = 0; q < T; ++q)
          out.head_divergence[lh] += js_divergence_bits(&t.attention[k][(lh * T + q) * T],
                                                        &b.attention[k][(lh * T + q) * T], T);
      query_rows += T;
    }
    out.rows += static_cast<int64_t>(n);
  }
  for (double& d : out.head_divergence) d /= static_cast<double>(std::max<int64_t>(1, query_rows));
  out.layer_divergence.assign(static_cast<size_t>(L), 0.0);
  for (int64_t l = 0; l < L; ++l) {
    for (int64_t h = 0; h < NH; ++h) out.layer_divergence[l] += out.head_divergence[l * NH + h];
    out.layer_divergence[l] /= static_cast<double>(NH);
  }
  for (const auto& [label, words] : by_label) out.labels.push_back(rank(label, rows_of_label[label], words, options));
  out.labels.push_back(rank("", out.rows, overall, options));
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return out;
}

}  // namespace accent
