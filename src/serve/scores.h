// serve/scores.h — turning a row of logits into pipeline("text-classification") output
// (spec: the shared spec, spec/pipeline.md §3).
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace accent {

enum class FunctionToApply { Default, Softmax, Sigmoid, None };

// Parses "softmax" | "sigmoid" | "none" (throws with the valid values otherwise).
FunctionToApply parse_function_to_apply(const std::string& s);

// HF's default rule: regression → none; multi-label or num_labels == 1 → sigmoid; single-label or
// num_labels > 1 → softmax; else none.
FunctionToApply resolve_function_to_apply(FunctionToApply requested, const std::optional<std::string>& problem_type,
                                          int64_t num_labels);

struct LabelScore {
  std::string label;
  double score;  // the float32 score widened to double, as Python's float(tensor) does
};

// How many labels to return: Legacy = top_k not given (the arg-max label only), All = top_k=None (all, sorted),
// K = the k best (sorted descending, ties in id order — Python's stable sort).
struct TopK {
  enum Kind { Legacy, All, K } kind = Legacy;
  int64_t k = 1;
};

// Applies the score function to `logits` (C values, float32 math like PyTorch's) and selects per `top_k`.
std::vector<LabelScore> classify_logits(const float* logits, int64_t num_labels,
                                        const std::map<int64_t, std::string>& id2label, FunctionToApply function,
                                        TopK top_k);

// [{"label": ..., "score": ...}, ...] — one input's result as the pipeline prints it.
nlohmann::json label_scores_to_json(const std::vector<LabelScore>& scores);

}  // namespace accent
