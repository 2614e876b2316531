// serve/token_classification.cpp — TokenClassificationPipeline.postprocess (rules in token_classification.h).
#include "serve/token_classification.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/error.h"
#include "text/decoder.h"
#include "text/tokenizer_state.h"
#include "text/unicode.h"

namespace accent {
namespace {

// The text as Python sees it: a sequence of code points, each with its UTF-8 bytes.
struct CodePointText {
  std::string utf8;                 // valid UTF-8 (invalid input read lossily, as the tokenizer does)
  std::vector<size_t> byte_offset;  // (N + 1,) byte where code point i starts; the last entry = utf8.size()

  explicit CodePointText(std::string_view text) {
    text::to_valid_utf8(text, utf8);
    for (size_t i = 0; i < utf8.size(); i += text::decode_utf8(utf8, i).length) byte_offset.push_back(i);
    byte_offset.push_back(utf8.size());
  }
  int64_t size() const { return static_cast<int64_t>(byte_offset.size()) - 1; }
  // Python text[begin:end] for 0 <= begin, end (clamped to the length, empty when end <= begin).
  std::string slice(int64_t begin, int64_t end) const {
    ACCENT_CHECK(begin >= 0 && end >= 0, "text slice [", begin, ", ", end, "): negative offset");
    begin = std::min(begin, size());
    end = std::min(end, size());
    if (end <= begin) return "";
    return utf8.substr(byte_offset[static_cast<size_t>(begin)],
                       byte_offset[static_cast<size_t>(end)] - byte_offset[static_cast<size_t>(begin)]);
  }
};

// numpy's pairwise summation of a contiguous float32 array (np.add.reduce, the sum behind np.sum / np.mean):
// under 8 values a plain loop; up to 128, eight interleaved partial sums combined pairwise, then the tail; above,
// the two halves (the first cut to a multiple of 8) summed recursively.
float numpy_pairwise_sum(const float* a, size_t n) {
  if (n < 8) {
    float sum = 0.f;
    for (size_t i = 0; i < n; ++i) sum += a[i];
    return sum;
  }
  if (n <= 128) {
    float r[8];
    for (size_t j = 0; j < 8; ++j) r[j] = a[j];
    size_t i = 8;
    for (; i < n - n % 8; i += 8)
      for (size_t j = 0; j < 8; ++j) r[j] += a[i + j];
    float sum = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; ++i) sum += a[i];
    return sum;
  }
  size_t half = n / 2;
  half -= half % 8;
  return numpy_pairwise_sum(a, half) + numpy_pairwise_sum(a + half, n - half);
}

// np.nanmean's final step on float32 (no NaN here): the float32 sum divided by the count in float64, rounded.
float numpy_float32_mean(float sum, size_t count) {
  return static_cast<float>(static_cast<double>(sum) / static_cast<double>(count));
}

// numpy argmax: the first index of the maximum.
size_t first_argmax(const float* v, size_t n) {
  size_t best = 0;
  for (size_t i = 1; i < n; ++i)
    if (v[i] > v[best]) best = i;
  return best;
}

// The pipeline's postprocess step 1 for one token: float32 softmax with max subtraction.
std::vector<float> numpy_softmax(const float* logits, size_t n) {
  const float m = *std::max_element(logits, logits + n);
  std::vector<float> e(n);
  for (size_t i = 0; i < n; ++i) e[i] = std::exp(logits[i] - m);
  const float sum = numpy_pairwise_sum(e.data(), n);
  for (float& v : e) v /= sum;
  return e;
}

struct PreEntity {
  std::string word;
  std::vector<float> scores;  // (C,)
  int64_t start, end, index;
  bool is_subword;
};

// An entity between aggregation and grouping (the pipeline's dicts before group_entities).
struct TokenEntity {
  std::string label;
  float score;
  std::optional<int64_t> index;
  std::string word;
  int64_t start, end;
};

bool model_has_continuing_subword_prefix(const text::TokenizerState& s) {
  if (s.wordpiece) return !s.wordpiece->continuing_subword_prefix().empty();
  if (!s.bpe) return false;  // Unigram has no such prefix
  return !s.bpe->options().continuing_subword_prefix.value_or("").empty();  // "" is falsy in Python
}

std::vector<PreEntity> gather_pre_entities(const Tokenizer& tok, const Encoding& encoding, const CodePointText& text,
                                           const std::vector<float>& logits, size_t num_labels) {
  const bool has_prefix = model_has_continuing_subword_prefix(tok.state());
  std::optional<int32_t> unk_id;
  if (auto unk = tok.special_token("unk_token")) unk_id = tok.token_to_id(*unk);
  std::vector<PreEntity> out;
  for (size_t t = 0; t < encoding.size(); ++t) {
    if (encoding.special_tokens_mask[t]) continue;
    PreEntity p;
    p.word = tok.id_to_token(encoding.ids[t]);
    p.scores = numpy_softmax(logits.data() + t * num_labels, num_labels);
    p.start = encoding.offsets[t].first;
    p.end = encoding.offsets[t].second;
    p.index = static_cast<int64_t>(t);
    const std::string word_ref = text.slice(p.start, p.end);
    if (has_prefix) {
      p.is_subword = text::count_code_points(p.word) != text::count_code_points(word_ref);
    } else {
      // start > 0 and text[start-1:start+1] holds no " " (the fallback heuristic for tokenizers without a subword
      // prefix).
      p.is_subword = p.start > 0 && text.slice(p.start - 1, p.start + 1).find(' ') == std::string::npos;
    }
    if (unk_id && encoding.ids[t] == *unk_id) {
      p.word = word_ref;
      p.is_subword = false;
    }
    out.push_back(std::move(p));
  }
  return out;
}

TokenEntity aggregate_word(const Tokenizer& tok, const std::vector<const PreEntity*>& tokens,
                           AggregationStrategy strategy, const std::vector<std::string>& id2label) {
  const size_t num_labels = id2label.size();
  std::vector<std::string> words;
  for (const PreEntity* p : tokens) words.push_back(p->word);
  TokenEntity e;
  e.word = convert_tokens_to_string(tok, words);
  e.start = tokens.front()->start;
  e.end = tokens.back()->end;
  const std::vector<float>* chosen = nullptr;
  std::vector<float> average;
  switch (strategy) {
    case AggregationStrategy::First: chosen = &tokens.front()->scores; break;
    case AggregationStrategy::Max: {
      // Python's max(key=scores.max()): the first token with the largest top probability.
      const PreEntity* best = tokens.front();
      float best_top = *std::max_element(best->scores.begin(), best->scores.end());
      for (const PreEntity* p : tokens) {
        const float top = *std::max_element(p->scores.begin(), p->scores.end());
        if (top > best_top) best = p, best_top = top;
      }
      chosen = &best->scores;
      break;
    }
    case AggregationStrategy::Average: {
      // np.nanmean(np.stack(scores), axis=0): each label's column summed token by token in float32.
      average.assign(num_labels, 0.f);
      for (const PreEntity* p : tokens)
        for (size_t c = 0; c < num_labels; ++c) average[c] += p->scores[c];
      for (float& v : average) v = numpy_float32_mean(v, tokens.size());
      chosen = &average;
      break;
    }
    default: fail("aggregate_word: strategy ", aggregation_strategy_name(strategy), " does not aggregate words");
  }
  const size_t best = first_argmax(chosen->data(), num_labels);
  e.label = id2label[best];
  e.score = (*chosen)[best];
  return e;
}

std::vector<TokenEntity> aggregate_words(const Tokenizer& tok, const std::vector<PreEntity>& pre,
                                         AggregationStrategy strategy, const std::vector<std::string>& id2label) {
  std::vector<TokenEntity> out;
  std::vector<const PreEntity*> word;
  for (const PreEntity& p : pre) {
    if (!word.empty() && !p.is_subword) {
      out.push_back(aggregate_word(tok, word, strategy, id2label));
      word.clear();
    }
    word.push_back(&p);
  }
  if (!word.empty()) out.push_back(aggregate_word(tok, word, strategy, id2label));
  return out;
}

// The pipeline's get_tag: ("B"|"I", tag); a label without a B-/I- prefix is an "I" of itself.
std::pair<char, std::string_view> bio_tag(std::string_view label) {
  if (label.substr(0, 2) == "B-") return {'B', label.substr(2)};
  if (label.substr(0, 2) == "I-") return {'I', label.substr(2)};
  return {'I', label};
}

NerEntity group_sub_entities(const Tokenizer& tok, const std::vector<const TokenEntity*>& group) {
  NerEntity g;
  const std::string& first = group.front()->label;
  const size_t dash = first.find('-');
  g.label = dash == std::string::npos ? first : first.substr(dash + 1);  // split("-", 1)[-1]
  std::vector<float> scores;
  std::vector<std::string> words;
  for (const TokenEntity* e : group) scores.push_back(e->score), words.push_back(e->word);
  g.score = numpy_float32_mean(numpy_pairwise_sum(scores.data(), scores.size()), scores.size());
  g.word = convert_tokens_to_string(tok, words);
  g.start = group.front()->start;
  g.end = group.back()->end;
  return g;
}

std::vector<NerEntity> group_entities(const Tokenizer& tok, const std::vector<TokenEntity>& entities) {
  std::vector<NerEntity> out;
  std::vector<const TokenEntity*> group;
  for (const TokenEntity& e : entities) {
    if (!group.empty()) {
      const auto [bi, tag] = bio_tag(e.label);
      const auto last_tag = bio_tag(group.back()->label).second;
      if (!(tag == last_tag && bi != 'B')) {
        out.push_back(group_sub_entities(tok, group));
        group.clear();
      }
    }
    group.push_back(&e);
  }
  if (!group.empty()) out.push_back(group_sub_entities(tok, group));
  return out;
}

}  // namespace

AggregationStrategy parse_aggregation_strategy(std::string_view name) {
  std::string lower;
  for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (lower == "none") return AggregationStrategy::None;
  if (lower == "simple") return AggregationStrategy::Simple;
  if (lower == "first") return AggregationStrategy::First;
  if (lower == "average") return AggregationStrategy::Average;
  if (lower == "max") return AggregationStrategy::Max;
  fail("aggregation_strategy '", name, "': expected one of none, simple, first, average, max");
}

const char* aggregation_strategy_name(AggregationStrategy strategy) {
  switch (strategy) {
    case AggregationStrategy::None: return "none";
    case AggregationStrategy::Simple: return "simple";
    case AggregationStrategy::First: return "first";
    case AggregationStrategy::Average: return "average";
    case AggregationStrategy::Max: return "max";
  }
  return "?";
}

std::vector<NerEntity> token_classification_postprocess(const Tokenizer& tok, const Encoding& encoding,
                                                        std::string_view text, const std::vector<float>& logits,
                                                        const std::vector<std::string>& id2label,
                                                        const TokenClassificationOptions& options) {
  const size_t num_tokens = encoding.size(), num_labels = id2label.size();
  ACCENT_CHECK(num_labels > 0, "token classification: id2label is empty");
  ACCENT_CHECK(encoding.offsets.size() == num_tokens,
               "token classification: the encoding has no offsets (encode with return_offsets_mapping)");
  ACCENT_CHECK(encoding.special_tokens_mask.size() == num_tokens,
               "token classification: the encoding has ", encoding.special_tokens_mask.size(),
               " special_tokens_mask entries for ", num_tokens, " tokens");
  ACCENT_CHECK(logits.size() == num_tokens * num_labels, "token classification: logits have ", logits.size(),
               " values, expected (T, C) = (", num_tokens, ", ", num_labels, ") = ", num_tokens * num_labels);
  const CodePointText sentence(text);
  const std::vector<PreEntity> pre = gather_pre_entities(tok, encoding, sentence, logits, num_labels);
  const AggregationStrategy strategy = options.aggregation_strategy;

  std::vector<TokenEntity> entities;
  if (strategy == AggregationStrategy::None || strategy == AggregationStrategy::Simple) {
    for (const PreEntity& p : pre) {
      const size_t best = first_argmax(p.scores.data(), num_labels);
      entities.push_back({id2label[best], p.scores[best], p.index, p.word, p.start, p.end});
    }
  } else {
    entities = aggregate_words(tok, pre, strategy, id2label);
  }

  std::vector<NerEntity> grouped;
  if (strategy == AggregationStrategy::None) {
    for (TokenEntity& e : entities)
      grouped.push_back({std::move(e.label), e.score, e.index, std::move(e.word), e.start, e.end});
  } else {
    grouped = group_entities(tok, entities);
  }
  std::vector<NerEntity> out;
  for (NerEntity& e : grouped)
    if (std::find(options.ignore_labels.begin(), options.ignore_labels.end(), e.label) == options.ignore_labels.end())
      out.push_back(std::move(e));
  return out;
}

nlohmann::ordered_json ner_entities_to_json(const std::vector<NerEntity>& entities, AggregationStrategy strategy) {
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const NerEntity& e : entities) {
    nlohmann::ordered_json j;
    j[strategy == AggregationStrategy::None ? "entity" : "entity_group"] = e.label;
    j["score"] = e.score;
    if (strategy == AggregationStrategy::None) j["index"] = e.index.value_or(-1);
    j["word"] = e.word;
    j["start"] = e.start;
    j["end"] = e.end;
    out.push_back(std::move(j));
  }
  return out;
}

}  // namespace accent
