#include "train/seqeval.h"

#include <algorithm>
#include <map>
#include <set>
#include <string_view>
#include <utility>

#include "core/error.h"

namespace accent {

namespace {

// A tag split the way seqeval does (suffix=False): `prefix` is the first code point (Python's chunk[0]),
// `type` the text after it with everything up to and including the first '-' dropped, "_" when empty.
struct PrefixAndType {
  std::string_view prefix;
  std::string_view type;
};

// Bytes of the UTF-8 sequence that starts with `lead` (1 for ASCII and for stray continuation bytes).
size_t utf8_sequence_length(unsigned char lead) {
  if (lead >= 0xF0) return 4;
  if (lead >= 0xE0) return 3;
  if (lead >= 0xC0) return 2;
  return 1;
}

PrefixAndType split_tag(std::string_view tag) {
  const size_t n = std::min(utf8_sequence_length(static_cast<unsigned char>(tag[0])), tag.size());
  std::string_view rest = tag.substr(n);
  const size_t dash = rest.find('-');
  if (dash != std::string_view::npos) rest = rest.substr(dash + 1);
  return {tag.substr(0, n), rest.empty() ? std::string_view("_") : rest};
}

bool is(std::string_view prefix, char c) { return prefix.size() == 1 && prefix[0] == c; }

// A chunk ends between `prev` and `cur` (see the header for the rules).
bool chunk_ends(const PrefixAndType& prev, const PrefixAndType& cur) {
  if (is(prev.prefix, 'E') || is(prev.prefix, 'S')) return true;
  if (is(prev.prefix, 'B') || is(prev.prefix, 'I'))
    if (is(cur.prefix, 'B') || is(cur.prefix, 'S') || is(cur.prefix, 'O')) return true;
  return !is(prev.prefix, 'O') && !is(prev.prefix, '.') && prev.type != cur.type;
}

// A chunk starts at `cur` (see the header for the rules).
bool chunk_starts(const PrefixAndType& prev, const PrefixAndType& cur) {
  if (is(cur.prefix, 'B') || is(cur.prefix, 'S')) return true;
  if (is(cur.prefix, 'E') || is(cur.prefix, 'I'))
    if (is(prev.prefix, 'E') || is(prev.prefix, 'S') || is(prev.prefix, 'O')) return true;
  return !is(cur.prefix, 'O') && !is(cur.prefix, '.') && prev.type != cur.type;
}

// precision / recall with zero_division = 0.
double ratio(int64_t num, int64_t den) { return den == 0 ? 0.0 : static_cast<double>(num) / static_cast<double>(den); }

// F-beta with beta = 1, evaluated as numpy does it in seqeval: (1 + 1) * P * R / (1 * P + R), the
// denominator replaced by 1 when it is 0 (then P = R = 0 and F = 0).
double f1_of(double precision, double recall) {
  double denom = 1.0 * precision + recall;
  if (denom == 0.0) denom = 1.0;
  return (1.0 + 1.0) * precision * recall / denom;
}

}  // namespace

std::vector<SeqevalEntity> seqeval_entities(const std::vector<TagSequence>& sentences) {
  std::vector<SeqevalEntity> entities;
  const std::string_view outside = "O";
  PrefixAndType prev{outside, ""};  // "" differs from every real type, so a first non-O tag starts a chunk
  int64_t begin = 0;
  int64_t position = 0;
  auto step = [&](const PrefixAndType& cur) {
    if (chunk_ends(prev, cur)) entities.push_back({std::string(prev.type), begin, position - 1});
    if (chunk_starts(prev, cur)) begin = position;
    prev = cur;
    ++position;
  };
  const PrefixAndType outside_tag = split_tag(outside);
  for (size_t s = 0; s < sentences.size(); ++s) {
    for (size_t t = 0; t < sentences[s].size(); ++t) {
      const std::string& tag = sentences[s][t];
      ACCENT_CHECK(!tag.empty(), "seqeval: empty tag string in sentence ", s, " at token ", t);
      step(split_tag(tag));
    }
    step(outside_tag);  // the "O" seqeval puts after every sentence
  }
  step(outside_tag);  // and the one it appends to the whole sequence
  return entities;
}

SeqevalMetrics seqeval_metrics(const std::vector<TagSequence>& gold, const std::vector<TagSequence>& predicted) {
  ACCENT_CHECK(gold.size() == predicted.size(), "seqeval: ", gold.size(), " gold sentences but ", predicted.size(),
               " predicted sentences");
  ACCENT_CHECK(!gold.empty(), "seqeval: no sentences to evaluate");
  SeqevalMetrics m;
  for (size_t s = 0; s < gold.size(); ++s) {
    ACCENT_CHECK(gold[s].size() == predicted[s].size(), "seqeval: sentence ", s, " has ", gold[s].size(),
                 " gold tags but ", predicted[s].size(), " predicted tags");
    for (size_t t = 0; t < gold[s].size(); ++t) m.tokens_correct += gold[s][t] == predicted[s][t] ? 1 : 0;
    m.tokens += static_cast<int64_t>(gold[s].size());
  }
  ACCENT_CHECK(m.tokens > 0, "seqeval: the sentences hold no tokens (accuracy is undefined)");
  m.overall_accuracy = static_cast<double>(m.tokens_correct) / static_cast<double>(m.tokens);

  // Per type: the (start, end) sets of gold and predicted entities. std::map orders the names by bytes,
  // which for UTF-8 is code-point order, Python's sorted().
  using Spans = std::set<std::pair<int64_t, int64_t>>;
  std::map<std::string, std::pair<Spans, Spans>> by_type;  // type -> (gold, predicted)
  for (const SeqevalEntity& e : seqeval_entities(gold)) by_type[e.type].first.insert({e.start, e.end});
  for (const SeqevalEntity& e : seqeval_entities(predicted)) by_type[e.type].second.insert({e.start, e.end});

  for (const auto& [type, spans] : by_type) {
    const auto& [gold_spans, pred_spans] = spans;
    SeqevalTypeScores t;
    t.type = type;
    t.number = static_cast<int64_t>(gold_spans.size());
    t.predicted = static_cast<int64_t>(pred_spans.size());
    for (const auto& span : pred_spans) t.correct += gold_spans.count(span) ? 1 : 0;
    t.precision = ratio(t.correct, t.predicted);
    t.recall = ratio(t.correct, t.number);
    t.f1 = f1_of(t.precision, t.recall);
    m.gold_entities += t.number;
    m.predicted_entities += t.predicted;
    m.correct_entities += t.correct;
    m.per_type.push_back(std::move(t));
  }
  m.overall_precision = ratio(m.correct_entities, m.predicted_entities);
  m.overall_recall = ratio(m.correct_entities, m.gold_entities);
  m.overall_f1 = f1_of(m.overall_precision, m.overall_recall);
  return m;
}

nlohmann::json SeqevalMetrics::to_json() const {
  nlohmann::json out = nlohmann::json::object();
  for (const SeqevalTypeScores& t : per_type)
    out[t.type] = {{"precision", t.precision}, {"recall", t.recall}, {"f1", t.f1}, {"number", t.number}};
  out["overall_precision"] = overall_precision;
  out["overall_recall"] = overall_recall;
  out["overall_f1"] = overall_f1;
  out["overall_accuracy"] = overall_accuracy;
  return out;
}

}  // namespace accent
