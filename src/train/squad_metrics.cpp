#include "train/squad_metrics.h"

#include <utf8proc.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>
#include <unordered_set>

#include "core/error.h"
#include "text/unicode.h"

namespace accent {

namespace {

utf8proc_category_t category_of(char32_t cp) { return utf8proc_category(static_cast<utf8proc_int32_t>(cp)); }

// Python str.isspace() (Unicode 14): bidirectional class WS, B or S, or general category Zs.
bool is_python_space(char32_t cp) {
  if (cp <= 0x20) return cp == 0x20 || (cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x1F);
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 || cp == 0x2029 ||
         cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

// Python re's \w on str patterns: str.isalnum() (letters L*, and Nd/Nl/No, which carry numeric values) or '_'.
bool is_python_word(char32_t cp) {
  if (cp < 0x80) return (cp >= '0' && cp <= '9') || (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z') || cp == '_';
  switch (category_of(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_LO:
    case UTF8PROC_CATEGORY_ND:
    case UTF8PROC_CATEGORY_NL:
    case UTF8PROC_CATEGORY_NO:
      return true;
    default:
      return false;
  }
}

// Python's string.punctuation: the 32 printable ASCII characters that are neither letters, digits nor space.
bool is_ascii_punctuation(char32_t cp) {
  return (cp >= 0x21 && cp <= 0x2F) || (cp >= 0x3A && cp <= 0x40) || (cp >= 0x5B && cp <= 0x60) ||
         (cp >= 0x7B && cp <= 0x7E);
}

// Unicode Case_Ignorable: categories Mn, Me, Cf, Lm, Sk, or Word_Break MidLetter / MidNumLet / Single_Quote.
bool is_case_ignorable(char32_t cp) {
  switch (cp) {
    case 0x27:
    case 0x2E:
    case 0x3A:
    case 0xB7:
    case 0x387:
    case 0x55F:
    case 0x5F4:
    case 0x2018:
    case 0x2019:
    case 0x2024:
    case 0x2027:
    case 0xFE13:
    case 0xFE52:
    case 0xFE55:
    case 0xFF07:
    case 0xFF0E:
    case 0xFF1A:
      return true;
    default:
      break;
  }
  switch (category_of(cp)) {
    case UTF8PROC_CATEGORY_MN:
    case UTF8PROC_CATEGORY_ME:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_LM:
    case UTF8PROC_CATEGORY_SK:
      return true;
    default:
      return false;
  }
}

// Unicode Cased: Lu, Ll, Lt, or Other_Uppercase / Other_Lowercase. Those outside Lu/Ll/Lt are either
// case-ignorable too (modifier letters, which the sigma rule skips before asking), letters with a case mapping
// (circled Ⓐ, Roman numerals), or the few listed here.
bool is_cased(char32_t cp) {
  switch (category_of(cp)) {
    case UTF8PROC_CATEGORY_LU:
    case UTF8PROC_CATEGORY_LL:
    case UTF8PROC_CATEGORY_LT:
      return true;
    default:
      break;
  }
  if (cp == 0xAA || cp == 0xBA || (cp >= 0x1F130 && cp <= 0x1F149) || (cp >= 0x1F150 && cp <= 0x1F169) ||
      (cp >= 0x1F170 && cp <= 0x1F189))
    return true;
  const auto c = static_cast<utf8proc_int32_t>(cp);
  return utf8proc_tolower(c) != c || utf8proc_toupper(c) != c;
}

// Python's str.lower(): the full lowercase mapping of each code point, except capital sigma (U+03A3), which
// becomes final ς (U+03C2) when preceded by a cased character and not followed by one, skipping
// case-ignorable characters in both directions (Unicode's Final_Sigma condition), and σ otherwise.
std::u32string python_lower(const std::u32string& s) {
  std::u32string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != 0x3A3) {
      text::append_lowercase(out, s[i]);
      continue;
    }
    size_t before = i;
    while (before > 0 && is_case_ignorable(s[before - 1])) --before;
    bool final_sigma = before > 0 && is_cased(s[before - 1]);
    if (final_sigma) {
      size_t after = i + 1;
      while (after < s.size() && is_case_ignorable(s[after])) ++after;
      final_sigma = after == s.size() || !is_cased(s[after]);
    }
    out.push_back(final_sigma ? 0x3C2 : 0x3C3);
  }
  return out;
}

bool is_article(const std::u32string& s, size_t begin, size_t end) {
  const std::u32string_view w(s.data() + begin, end - begin);
  return w == U"a" || w == U"an" || w == U"the";
}

// Counter(a) & Counter(b), summed: the number of tokens the two lists share, with multiplicity.
int64_t common_token_count(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::unordered_map<std::string, int64_t> left;
  for (const std::string& t : a) ++left[t];
  int64_t common = 0;
  for (const std::string& t : b) {
    auto it = left.find(t);
    if (it != left.end() && it->second > 0) {
      --it->second;
      ++common;
    }
  }
  return common;
}

// Token F1 given the overlap: 2·P·R/(P + R), evaluated in the scripts' order ((2·P)·R)/(P + R).
double token_f1(int64_t common, size_t pred_tokens, size_t gold_tokens) {
  if (common == 0) return 0.0;
  const double precision = 1.0 * static_cast<double>(common) / static_cast<double>(pred_tokens);
  const double recall = 1.0 * static_cast<double>(common) / static_cast<double>(gold_tokens);
  return (2 * precision * recall) / (precision + recall);
}

template <typename Item>
void check_unique_ids(const std::vector<Item>& items, const char* what) {
  std::unordered_set<std::string> seen;
  for (const Item& item : items)
    ACCENT_CHECK(seen.insert(item.id).second, "squad: duplicate ", what, " id '", item.id, "'");
}

std::unordered_map<std::string, const SquadPrediction*> index_by_id(const std::vector<SquadPrediction>& predictions) {
  check_unique_ids(predictions, "prediction");
  std::unordered_map<std::string, const SquadPrediction*> by_id;
  for (const SquadPrediction& p : predictions) by_id.emplace(p.id, &p);
  return by_id;
}

}  // namespace

std::vector<std::string> squad_answer_tokens(std::string_view input) {
  // 1. lower, 2. drop ASCII punctuation.
  std::u32string s;
  for (char32_t cp : python_lower(text::to_code_points(input)))
    if (!is_ascii_punctuation(cp)) s.push_back(cp);
  // 3. Articles: a match of \b(a|an|the)\b starts after a non-word character (or at the start) and ends before
  //    one (or at the end), so it is exactly a maximal run of word characters; replace such runs by a space.
  std::u32string no_articles;
  for (size_t i = 0; i < s.size();) {
    if (!is_python_word(s[i])) {
      no_articles.push_back(s[i++]);
      continue;
    }
    size_t end = i;
    while (end < s.size() && is_python_word(s[end])) ++end;
    if (is_article(s, i, end))
      no_articles.push_back(U' ');
    else
      no_articles.append(s, i, end - i);
    i = end;
  }
  // 4. Split on Python whitespace.
  std::vector<std::string> tokens;
  std::string token;
  bool in_token = false;
  for (char32_t cp : no_articles) {
    if (is_python_space(cp)) {
      if (in_token) tokens.push_back(std::move(token));
      token.clear();
      in_token = false;
    } else {
      text::append_utf8(token, cp);
      in_token = true;
    }
  }
  if (in_token) tokens.push_back(std::move(token));
  return tokens;
}

std::string squad_normalize_answer(std::string_view text) {
  std::string out;
  for (const std::string& t : squad_answer_tokens(text)) {
    if (!out.empty()) out += ' ';
    out += t;
  }
  return out;
}

int squad_exact(std::string_view prediction, std::string_view gold) {
  return squad_normalize_answer(prediction) == squad_normalize_answer(gold) ? 1 : 0;
}

double squad_v1_f1(std::string_view prediction, std::string_view gold) {
  const std::vector<std::string> pred = squad_answer_tokens(prediction), truth = squad_answer_tokens(gold);
  return token_f1(common_token_count(pred, truth), pred.size(), truth.size());
}

double squad_v2_f1(std::string_view prediction, std::string_view gold) {
  const std::vector<std::string> pred = squad_answer_tokens(prediction), truth = squad_answer_tokens(gold);
  if (pred.empty() || truth.empty()) return pred == truth ? 1.0 : 0.0;
  return token_f1(common_token_count(pred, truth), pred.size(), truth.size());
}

SquadV1Scores squad_v1_scores(const std::vector<SquadPrediction>& predictions,
                              const std::vector<SquadReference>& references) {
  ACCENT_CHECK(!references.empty(), "squad: no references to evaluate");
  check_unique_ids(references, "reference");
  const auto by_id = index_by_id(predictions);
  SquadV1Scores out;
  int64_t exact_sum = 0;
  double f1_sum = 0;
  for (const SquadReference& ref : references) {
    ACCENT_CHECK(!ref.answers.empty(), "squad: reference '", ref.id, "' has no answers (SQuAD v1.1 needs one)");
    ++out.total;
    auto it = by_id.find(ref.id);
    if (it == by_id.end()) {
      out.unanswered.push_back(ref.id);
      continue;
    }
    int exact = 0;
    double f1 = 0;
    for (const std::string& gold : ref.answers) {
      exact = std::max(exact, squad_exact(it->second->text, gold));
      f1 = std::max(f1, squad_v1_f1(it->second->text, gold));
    }
    exact_sum += exact;
    f1_sum += f1;
  }
  out.exact_match = 100.0 * static_cast<double>(exact_sum) / static_cast<double>(out.total);
  out.f1 = 100.0 * f1_sum / static_cast<double>(out.total);
  return out;
}

nlohmann::json SquadV1Scores::to_json() const { return {{"exact_match", exact_match}, {"f1", f1}}; }

SquadV2Scores squad_v2_scores(const std::vector<SquadPrediction>& predictions,
                              const std::vector<SquadReference>& references, double no_answer_threshold) {
  ACCENT_CHECK(!references.empty(), "squad_v2: no references to evaluate");
  check_unique_ids(references, "reference");
  const auto by_id = index_by_id(predictions);

  // Raw scores per reference (in reference order), then the thresholded ones.
  const size_t n = references.size();
  std::vector<double> exact_raw(n), f1_raw(n), exact_thresh(n), f1_thresh(n);
  std::vector<bool> has_answer(n);
  std::unordered_map<std::string, size_t> ref_index;
  for (size_t q = 0; q < n; ++q) {
    const SquadReference& ref = references[q];
    ref_index.emplace(ref.id, q);
    auto it = by_id.find(ref.id);
    ACCENT_CHECK(it != by_id.end(), "squad_v2: missing prediction for question '", ref.id, "'");
    const SquadPrediction& pred = *it->second;
    has_answer[q] = !ref.answers.empty();
    std::vector<std::string> gold;
    for (const std::string& a : ref.answers)
      if (!squad_normalize_answer(a).empty()) gold.push_back(a);
    if (gold.empty()) gold.push_back("");
    int exact = 0;
    double f1 = 0;
    for (const std::string& g : gold) {
      exact = std::max(exact, squad_exact(pred.text, g));
      f1 = std::max(f1, squad_v2_f1(pred.text, g));
    }
    exact_raw[q] = exact;
    f1_raw[q] = f1;
    const bool predicted_no_answer = pred.no_answer_probability > no_answer_threshold;
    exact_thresh[q] = predicted_no_answer ? (has_answer[q] ? 0.0 : 1.0) : exact_raw[q];
    f1_thresh[q] = predicted_no_answer ? (has_answer[q] ? 0.0 : 1.0) : f1_raw[q];
  }

  // 100 · mean over the questions selected by `keep`, summed in reference order.
  auto subset = [&](auto keep) {
    SquadSubsetScores s;
    double exact_sum = 0, f1_sum = 0;
    for (size_t q = 0; q < n; ++q)
      if (keep(q)) {
        exact_sum += exact_thresh[q];
        f1_sum += f1_thresh[q];
        ++s.total;
      }
    s.exact = 100.0 * exact_sum / static_cast<double>(s.total);
    s.f1 = 100.0 * f1_sum / static_cast<double>(s.total);
    return s;
  };
  SquadV2Scores out;
  out.all = subset([](size_t) { return true; });
  const auto answerable = static_cast<int64_t>(std::count(has_answer.begin(), has_answer.end(), true));
  if (answerable > 0) out.has_answer = subset([&](size_t q) { return has_answer[q]; });
  if (answerable < static_cast<int64_t>(n)) out.no_answer = subset([&](size_t q) { return !has_answer[q]; });

  // Threshold sweep: predictions by ascending probability, ties in prediction order.
  std::vector<size_t> order(predictions.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return predictions[a].no_answer_probability < predictions[b].no_answer_probability;
  });
  auto best_threshold = [&](const std::vector<double>& raw, double& best, double& thresh) {
    double score = static_cast<double>(static_cast<int64_t>(n) - answerable);  // answer nothing
    double best_score = score;
    thresh = 0.0;
    for (size_t k : order) {
      auto it = ref_index.find(predictions[k].id);
      if (it == ref_index.end()) continue;  // a prediction for no question
      const size_t q = it->second;
      score += has_answer[q] ? raw[q] : (predictions[k].text.empty() ? 0.0 : -1.0);
      if (score > best_score) {
        best_score = score;
        thresh = predictions[k].no_answer_probability;
      }
    }
    best = 100.0 * best_score / static_cast<double>(n);
  };
  best_threshold(exact_raw, out.best_exact, out.best_exact_thresh);
  best_threshold(f1_raw, out.best_f1, out.best_f1_thresh);
  return out;
}

nlohmann::json SquadV2Scores::to_json() const {
  nlohmann::json out = {{"exact", all.exact}, {"f1", all.f1}, {"total", all.total}};
  if (has_answer) {
    out["HasAns_exact"] = has_answer->exact;
    out["HasAns_f1"] = has_answer->f1;
    out["HasAns_total"] = has_answer->total;
  }
  if (no_answer) {
    out["NoAns_exact"] = no_answer->exact;
    out["NoAns_f1"] = no_answer->f1;
    out["NoAns_total"] = no_answer->total;
  }
  out["best_exact"] = best_exact;
  out["best_exact_thresh"] = best_exact_thresh;
  out["best_f1"] = best_f1;
  out["best_f1_thresh"] = best_f1_thresh;
  return out;
}

}  // namespace accent
