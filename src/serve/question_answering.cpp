// serve/question_answering.cpp — utils_qa.py's postprocess_qa_predictions and the question-answering pipeline's
// pre- and post-processing (see the header for the rules).
#include "serve/question_answering.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <unordered_map>

#include "core/error.h"
#include "text/unicode.h"

namespace accent {
namespace {

// numpy's float32 add.reduce over a contiguous array: pairwise summation, 8 partial sums per block of up to
// 128 elements, float32 accumulators.
float pairwise_sum(const float* a, int64_t n) {
  if (n < 8) {
    float res = 0.f;
    for (int64_t i = 0; i < n; ++i) res += a[i];
    return res;
  }
  if (n <= 128) {
    float r[8];
    for (int j = 0; j < 8; ++j) r[j] = a[j];
    int64_t i = 8;
    for (; i < n - (n % 8); i += 8)
      for (int j = 0; j < 8; ++j) r[j] += a[i + j];
    float res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) res += a[i];
    return res;
  }
  int64_t half = n / 2;
  half -= half % 8;
  return pairwise_sum(a, half) + pairwise_sum(a + half, n - half);
}

// np.exp on a float32 value: the correctly rounded double result rounded to float32.
float exp_f32(float x) { return static_cast<float>(std::exp(static_cast<double>(x))); }

// softmax over float32 values the way numpy computes exp(x - max) / sum in float32.
std::vector<float> softmax_f32(const std::vector<float>& x) {
  const float m = *std::max_element(x.begin(), x.end());
  std::vector<float> e(x.size());
  for (size_t i = 0; i < x.size(); ++i) e[i] = exp_f32(x[i] - m);
  const float total = pairwise_sum(e.data(), static_cast<int64_t>(e.size()));
  for (float& v : e) v = v / total;
  return e;
}

void check_finite(const std::vector<float>& v, const char* what, size_t index) {
  for (size_t i = 0; i < v.size(); ++i)
    ACCENT_CHECK(std::isfinite(v[i]), "question answering: ", what, " logits of feature ", index, " at position ", i,
                 " is not finite (", v[i], ")");
}

// np.argsort(x)[-1:-n-1:-1]: the n largest, descending; equal values with the higher index first.
std::vector<int64_t> top_indices_descending(const std::vector<float>& x, int64_t n) {
  std::vector<int64_t> idx(x.size());
  std::iota(idx.begin(), idx.end(), 0);
  const auto k = static_cast<size_t>(std::clamp<int64_t>(n, 0, static_cast<int64_t>(x.size())));
  std::partial_sort(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(k), idx.end(), [&](int64_t a, int64_t b) {
    return x[a] != x[b] ? x[a] > x[b] : a > b;
  });
  idx.resize(k);
  return idx;
}

// Python's str.lower() per code point (full mappings; not the final-sigma rule), on UTF-8.
std::u32string lowercase(const std::string& s) {
  std::u32string out;
  for (size_t i = 0; i < s.size();) {
    const text::Utf8Step step = text::decode_utf8(s, i);
    text::append_lowercase(out, step.cp);
    i += step.length;
  }
  return out;
}

struct Candidate {
  int64_t begin = 0, end = 0;
  float score = 0, start_logit = 0, end_logit = 0;
};

}  // namespace

std::vector<QaExamplePrediction> postprocess_qa_predictions(const std::vector<SquadExample>& examples,
                                                            const std::vector<QaValidationFeature>& features,
                                                            const std::vector<QaLogits>& logits,
                                                            const QaDataArguments& args) {
  ACCENT_CHECK(logits.size() == features.size(), "postprocess_qa_predictions: got ", logits.size(),
               " predictions and ", features.size(), " features");
  ACCENT_CHECK(args.n_best_size >= 1, "postprocess_qa_predictions: n_best_size must be >= 1, got ", args.n_best_size);
  std::unordered_map<std::string, size_t> example_index;
  for (size_t i = 0; i < examples.size(); ++i) example_index.emplace(examples[i].id, i);
  std::vector<std::vector<size_t>> features_per_example(examples.size());
  for (size_t f = 0; f < features.size(); ++f) {
    auto it = example_index.find(features[f].example_id);
    ACCENT_CHECK(it != example_index.end(), "postprocess_qa_predictions: feature ", f, " names example id \"",
                 features[f].example_id, "\", which is not among the examples");
    ACCENT_CHECK(logits[f].start.size() == logits[f].end.size() && !logits[f].start.empty(),
                 "postprocess_qa_predictions: feature ", f, " has ", logits[f].start.size(), " start and ",
                 logits[f].end.size(), " end logits (expected the same non-zero number)");
    check_finite(logits[f].start, "start", f);
    check_finite(logits[f].end, "end", f);
    features_per_example[it->second].push_back(f);
  }

  std::vector<QaExamplePrediction> out;
  out.reserve(examples.size());
  for (size_t ei = 0; ei < examples.size(); ++ei) {
    const SquadExample& example = examples[ei];
    std::optional<Candidate> min_null;
    std::vector<Candidate> prelim;
    for (size_t f : features_per_example[ei]) {
      const std::vector<float>& start = logits[f].start;
      const std::vector<float>& end = logits[f].end;
      const auto& offsets = features[f].offset_mapping;
      const auto& max_context = features[f].token_is_max_context;
      const float null_score = start[0] + end[0];
      if (!min_null || min_null->score > null_score) min_null = Candidate{0, 0, null_score, start[0], end[0]};
      const auto n = static_cast<int64_t>(offsets.size());
      for (int64_t s : top_indices_descending(start, args.n_best_size)) {
        for (int64_t e : top_indices_descending(end, args.n_best_size)) {
          if (s >= n || e >= n || !offsets[s] || !offsets[e]) continue;
          if (e < s || e - s + 1 > args.max_answer_length) continue;
          if (max_context && (s >= static_cast<int64_t>(max_context->size()) || !(*max_context)[s])) continue;
          prelim.push_back({offsets[s]->first, offsets[e]->second, start[s] + end[e], start[s], end[e]});
        }
      }
    }
    ACCENT_CHECK(!args.version_2_with_negative || min_null, "postprocess_qa_predictions: example id \"", example.id,
                 "\" has no feature, so it has no null answer to compare with (version_2_with_negative)");
    if (args.version_2_with_negative) prelim.push_back(*min_null);
    std::stable_sort(prelim.begin(), prelim.end(),
                     [](const Candidate& a, const Candidate& b) { return a.score > b.score; });
    if (static_cast<int64_t>(prelim.size()) > args.n_best_size) prelim.resize(static_cast<size_t>(args.n_best_size));
    if (args.version_2_with_negative &&
        std::none_of(prelim.begin(), prelim.end(), [](const Candidate& c) { return c.begin == 0 && c.end == 0; }))
      prelim.push_back(*min_null);

    QaExamplePrediction pred;
    pred.id = example.id;
    for (const Candidate& c : prelim) {
      QaNbestPrediction p;
      p.text = utf8_slice(example.context, c.begin, c.end);
      p.begin = c.begin;
      p.end = c.end;
      p.start_logit = c.start_logit;
      p.end_logit = c.end_logit;
      p.score = c.score;
      pred.nbest.push_back(std::move(p));
    }
    // The "empty" fallback: its Python-float score makes numpy compute the softmax in float64.
    const bool fallback = pred.nbest.empty() || (pred.nbest.size() == 1 && pred.nbest[0].text.empty());
    if (fallback) {
      pred.nbest.insert(pred.nbest.begin(), QaNbestPrediction{"empty", 0, 0, 0.f, 0.f, 0.0, 0.0});
      double m = pred.nbest[0].score;
      for (const auto& p : pred.nbest) m = std::max(m, p.score);
      double total = 0;
      std::vector<double> ex;
      for (const auto& p : pred.nbest) ex.push_back(std::exp(p.score - m));
      // numpy's float64 pairwise sum equals the plain sum for fewer than 8 values; n-best lists this short
      // (at most 2 here: "empty" plus one) never reach the blocked path.
      for (double v : ex) total += v;
      for (size_t i = 0; i < ex.size(); ++i) pred.nbest[i].probability = ex[i] / total;
    } else {
      std::vector<float> scores;
      for (const auto& p : pred.nbest) scores.push_back(static_cast<float>(p.score));
      const std::vector<float> probs = softmax_f32(scores);
      for (size_t i = 0; i < probs.size(); ++i) pred.nbest[i].probability = probs[i];
    }

    if (!args.version_2_with_negative) {
      pred.prediction_text = pred.nbest[0].text;
    } else {
      size_t i = 0;
      while (i < pred.nbest.size() && pred.nbest[i].text.empty()) ++i;
      ACCENT_CHECK(i < pred.nbest.size(), "postprocess_qa_predictions: example id \"", example.id,
                   "\": every n-best prediction has an empty text (utils_qa.py fails with an IndexError here)");
      const QaNbestPrediction& best = pred.nbest[i];
      const float diff = (min_null->score - best.start_logit) - best.end_logit;
      pred.score_diff = diff;
      pred.prediction_text = diff > args.null_score_diff_threshold ? "" : best.text;
    }
    out.push_back(std::move(pred));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// pipeline("question-answering")

namespace {

void check_pipeline_options(const QaPipelineOptions& options) {
  ACCENT_CHECK(options.top_k >= 1, "question-answering: top_k parameter should be >= 1 (got ", options.top_k, ")");
  ACCENT_CHECK(options.max_answer_len >= 1, "question-answering: max_answer_len parameter should be >= 1 (got ",
               options.max_answer_len, ")");
}

// tokenizers' Encoding.word_to_chars(word, sequence): the characters from the first to the last token of `word`
// within the tokens of `sequence` (scanning them in order and stopping at the first larger word id, as
// word_to_tokens does). nullopt when the word has no token there.
std::optional<std::pair<int32_t, int32_t>> word_to_chars(const Encoding& enc, int32_t word, int32_t sequence) {
  int64_t first = -1, last = -1;
  bool in_sequence = false;
  for (size_t i = 0; i < enc.size(); ++i) {
    if (enc.sequence_ids[i] != sequence) {
      if (in_sequence) break;  // a sequence's tokens are contiguous
      continue;
    }
    in_sequence = true;
    const int32_t w = enc.word_ids[i];
    if (w > word) break;
    if (w == word) {
      if (first < 0) first = static_cast<int64_t>(i);
      last = static_cast<int64_t>(i);
    }
  }
  if (first < 0) return std::nullopt;
  return std::make_pair(enc.offsets[first].first, enc.offsets[last].second);
}

// QuestionAnsweringPipeline.get_indices: code-point [start, end) of the span of tokens s..e.
std::pair<int64_t, int64_t> span_chars(const Encoding& enc, int64_t s, int64_t e, int32_t sequence,
                                       bool align_to_words) {
  if (align_to_words && enc.word_ids[s] >= 0 && enc.word_ids[e] >= 0) {
    const auto start_word = word_to_chars(enc, enc.word_ids[s], sequence);
    const auto end_word = word_to_chars(enc, enc.word_ids[e], sequence);
    if (start_word && end_word) return {start_word->first, end_word->second};
  }
  // No word (special tokens) or a word missing from the sequence: transformers catches the exception and keeps
  // to the tokens' offsets.
  return {enc.offsets[s].first, enc.offsets[e].second};
}

struct Span {
  int64_t s, e;
  float score;
};

// select_starts_ends + decode_spans for one window: the spans (desired tokens only) among the `k` best cells.
std::vector<Span> best_spans(const std::vector<float>& start_logits, const std::vector<float>& end_logits,
                             const std::vector<uint8_t>& desired, int64_t k, int64_t max_answer_len,
                             bool handle_impossible_answer, double& min_null_score) {
  const auto t = static_cast<int64_t>(desired.size());
  std::vector<float> start(t), end(t);
  for (int64_t i = 0; i < t; ++i) {
    start[i] = desired[i] ? start_logits[i] : -10000.f;
    end[i] = desired[i] ? end_logits[i] : -10000.f;
  }
  start = softmax_f32(start);
  end = softmax_f32(end);
  if (handle_impossible_answer) min_null_score = std::min(min_null_score, static_cast<double>(start[0] * end[0]));
  start[0] = end[0] = 0.f;

  // The cells np.tril(np.triu(outer), max_answer_len - 1) keeps: s <= e <= s + max_answer_len - 1. Only those
  // can be positive; every other cell is 0.
  const auto band_end = [&](int64_t s) { return std::min(t - 1, s + max_answer_len - 1); };
  std::vector<Span> positive;
  for (int64_t s = 0; s < t; ++s)
    for (int64_t e = s; e <= band_end(s); ++e) {
      const float score = start[s] * end[e];
      if (score > 0.f) positive.push_back({s, e, score});
    }
  // Score descending, then flat index s * T + e ascending (the order `positive` was built in).
  std::stable_sort(positive.begin(), positive.end(), [](const Span& a, const Span& b) { return a.score > b.score; });
  std::vector<Span> chosen(positive.begin(), positive.begin() + std::min<int64_t>(k, positive.size()));
  if (static_cast<int64_t>(chosen.size()) < k) {
    // Fewer positive cells than k: the rest are 0 cells, taken in flat order.
    const auto is_positive = [&](int64_t s, int64_t e) { return e >= s && e <= band_end(s) && start[s] * end[e] > 0.f; };
    for (int64_t flat = 0; flat < t * t && static_cast<int64_t>(chosen.size()) < k; ++flat) {
      const int64_t s = flat / t, e = flat % t;
      if (!is_positive(s, e)) chosen.push_back({s, e, 0.f});
    }
  }
  // np.isin(starts, undesired_tokens.nonzero()): undesired_tokens is (1, T), so nonzero() is (rows, columns) and
  // isin flattens both — the row indices are all 0, so position 0 passes whenever any token is desired.
  const bool any_desired = std::find(desired.begin(), desired.end(), 1) != desired.end();
  const auto passes = [&](int64_t i) { return desired[i] || (i == 0 && any_desired); };
  std::vector<Span> out;
  for (const Span& span : chosen)
    if (passes(span.s) && passes(span.e)) out.push_back(span);
  return out;
}

}  // namespace

QaPipelineWindows qa_pipeline_preprocess(const Tokenizer& tokenizer, const std::string& question,
                                         const std::string& context, const QaPipelineOptions& options) {
  check_pipeline_options(options);
  ACCENT_CHECK(!question.empty(), "question-answering: `question` cannot be empty");
  ACCENT_CHECK(!context.empty(), "question-answering: `context` cannot be empty");
  const int64_t max_seq_len = options.max_seq_len.value_or(std::min<int64_t>(tokenizer.model_max_length(), 384));
  const int64_t doc_stride = options.doc_stride.value_or(std::min<int64_t>(max_seq_len / 2, 128));
  ACCENT_CHECK(doc_stride <= max_seq_len, "question-answering: `doc_stride` (", doc_stride,
               ") is larger than `max_seq_len` (", max_seq_len, ")");
  EncodeOptions enc;
  enc.max_length = max_seq_len;
  enc.truncation = options.pad_on_right ? TruncationStrategy::OnlySecond : TruncationStrategy::OnlyFirst;
  enc.stride = doc_stride;
  enc.return_overflowing_tokens = true;
  enc.return_offsets_mapping = true;
  Encoding first = options.pad_on_right ? tokenizer.encode(question, context, enc) : tokenizer.encode(context, question, enc);

  QaPipelineWindows out;
  std::vector<Encoding> overflowing = std::move(first.overflowing);
  first.overflowing.clear();
  out.windows.push_back(std::move(first));
  for (auto& w : overflowing) {
    w.overflowing.clear();
    out.windows.push_back(std::move(w));
  }
  std::optional<int32_t> cls_id;
  if (auto cls = tokenizer.special_token("cls_token")) cls_id = tokenizer.token_to_id(*cls);
  for (const Encoding& w : out.windows) {
    std::vector<uint8_t> mask(w.size(), 0);
    for (size_t i = 0; i < w.size(); ++i) {
      if (options.pad_on_right) mask[i] = w.sequence_ids[i] != 1;
      if (cls_id && w.ids[i] == *cls_id) mask[i] = 0;  // kept: some models point at CLS for "no answer"
    }
    out.p_mask.push_back(std::move(mask));
  }
  return out;
}

std::vector<QaAnswer> qa_pipeline_postprocess(const std::string& context, const QaPipelineWindows& windows,
                                              const std::vector<QaLogits>& logits, const QaPipelineOptions& options) {
  check_pipeline_options(options);
  ACCENT_CHECK(windows.windows.size() == logits.size() && windows.p_mask.size() == logits.size(),
               "question-answering: ", windows.windows.size(), " windows (", windows.p_mask.size(), " p_masks) but ",
               logits.size(), " logits");
  const int64_t k = options.align_to_words ? options.top_k * 2 + 10 : options.top_k;
  const int32_t context_sequence = options.pad_on_right ? 1 : 0;
  double min_null_score = 1000000;  // large and positive, as transformers starts it
  std::vector<QaAnswer> answers;
  std::vector<std::u32string> lowered;  // lowercase(answers[i].answer)
  for (size_t w = 0; w < logits.size(); ++w) {
    const Encoding& enc = windows.windows[w];
    const size_t t = enc.size();
    ACCENT_CHECK(t > 0 && logits[w].start.size() == t && logits[w].end.size() == t && windows.p_mask[w].size() == t &&
                     enc.attention_mask.size() == t && enc.offsets.size() == t && enc.word_ids.size() == t &&
                     enc.sequence_ids.size() == t,
                 "question-answering: window ", w, " has ", t, " tokens but ", logits[w].start.size(), " start and ",
                 logits[w].end.size(), " end logits, ", windows.p_mask[w].size(),
                 " p_mask values (and offsets, word ids, sequence ids and attention mask must match)");
    check_finite(logits[w].start, "start", w);
    check_finite(logits[w].end, "end", w);
    std::vector<uint8_t> desired(t);
    for (size_t i = 0; i < t; ++i) desired[i] = windows.p_mask[w][i] == 0 && enc.attention_mask[i] == 1;
    for (const Span& span : best_spans(logits[w].start, logits[w].end, desired, k, options.max_answer_len,
                                       options.handle_impossible_answer, min_null_score)) {
      const auto [start, end] = span_chars(enc, span.s, span.e, context_sequence, options.align_to_words);
      std::string text = utf8_slice(context, start, end);
      std::u32string key = lowercase(text);
      auto same = std::find(lowered.begin(), lowered.end(), key);
      if (same != lowered.end()) {
        answers[static_cast<size_t>(same - lowered.begin())].score += static_cast<double>(span.score);
      } else {
        answers.push_back({static_cast<double>(span.score), start, end, std::move(text)});
        lowered.push_back(std::move(key));
      }
    }
  }
  if (options.handle_impossible_answer) answers.push_back({min_null_score, 0, 0, ""});
  std::stable_sort(answers.begin(), answers.end(), [](const QaAnswer& a, const QaAnswer& b) { return a.score > b.score; });
  if (static_cast<int64_t>(answers.size()) > options.top_k) answers.resize(static_cast<size_t>(options.top_k));
  return answers;
}

nlohmann::json qa_answers_to_json(const std::vector<QaAnswer>& answers) {
  nlohmann::json list = nlohmann::json::array();
  for (const QaAnswer& a : answers)
    list.push_back({{"score", a.score}, {"start", a.start}, {"end", a.end}, {"answer", a.answer}});
  return list.size() == 1 ? list[0] : list;
}

}  // namespace accent
