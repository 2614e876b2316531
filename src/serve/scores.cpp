#include "serve/scores.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/error.h"

namespace accent {

FunctionToApply parse_function_to_apply(const std::string& s) {
  if (s == "softmax") return FunctionToApply::Softmax;
  if (s == "sigmoid") return FunctionToApply::Sigmoid;
  if (s == "none") return FunctionToApply::None;
  fail("--function-to-apply: '", s, "' is not one of softmax, sigmoid, none");
}

FunctionToApply resolve_function_to_apply(FunctionToApply requested, const std::optional<std::string>& problem_type,
                                          int64_t num_labels) {
  if (requested != FunctionToApply::Default) return requested;
  if (problem_type == "regression") return FunctionToApply::None;
  if (problem_type == "multi_label_classification" || num_labels == 1) return FunctionToApply::Sigmoid;
  if (problem_type == "single_label_classification" || num_labels > 1) return FunctionToApply::Softmax;
  return FunctionToApply::None;
}

std::vector<LabelScore> classify_logits(const float* logits, int64_t num_labels,
                                        const std::map<int64_t, std::string>& id2label, FunctionToApply function,
                                        TopK top_k) {
  ACCENT_CHECK(function != FunctionToApply::Default, "classify_logits: resolve the score function first");
  std::vector<float> scores(logits, logits + num_labels);
  if (function == FunctionToApply::Sigmoid) {
    for (float& s : scores) s = 1.0f / (1.0f + std::exp(-s));
  } else if (function == FunctionToApply::Softmax) {
    // softmax(x) = exp(x - max) / Σ exp(x - max): subtracting the max keeps exp from overflowing.
    const float mx = *std::max_element(scores.begin(), scores.end());
    float sum = 0.0f;
    for (float& s : scores) {
      s = std::exp(s - mx);
      sum += s;
    }
    for (float& s : scores) s /= sum;
  }
  std::vector<LabelScore> out;
  out.reserve(scores.size());
  for (int64_t i = 0; i < num_labels; ++i) {
    auto it = id2label.find(i);
    out.push_back({it != id2label.end() ? it->second : "LABEL_" + std::to_string(i), static_cast<double>(scores[i])});
  }
  std::stable_sort(out.begin(), out.end(), [](const LabelScore& a, const LabelScore& b) { return a.score > b.score; });
  if (top_k.kind == TopK::Legacy) out.resize(std::min<size_t>(1, out.size()));
  if (top_k.kind == TopK::K) out.resize(std::min<size_t>(static_cast<size_t>(std::max<int64_t>(top_k.k, 0)), out.size()));
  return out;
}

nlohmann::json label_scores_to_json(const std::vector<LabelScore>& scores) {
  nlohmann::json arr = nlohmann::json::array();
  for (const auto& s : scores) {
    nlohmann::json o = nlohmann::json::object();
    o["label"] = s.label;
    o["score"] = s.score;
    arr.push_back(std::move(o));
  }
  return arr;
}

}  // namespace accent
