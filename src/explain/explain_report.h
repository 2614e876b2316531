// explain/explain_report.h — the page `accent explain --html` writes: one self-contained HTML file (inline SVG and
// CSS, no script, no network) with
//   #methods         each attribution method and its formula (explain/attributions.h)
//   #texts           per text: the prediction, then its words shaded by each method (orange pushes the explained
//                    class up, blue down; attention in green), the value in each word's tooltip, and integrated
//                    gradients' completeness
//   #attention-grid  for one text: the last layer's head-averaged attention map with its tokens, and a layer ×
//                    head grid of every attention map (the first kGridTokens tokens)
//   #profile         with --base/--data: the attention profile (explain/attention_profile.h): words whose
//                    [CLS] attention fine-tuning raised or lowered most, per label (a base → fine-tuned dumbbell
//                    chart of the top 8 each way, then the tables), the most attributed words, and
//                    the per-head Jensen–Shannon divergence between base and fine-tuned attention as a heat map
//   #timings         seconds per phase
#pragma once
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "explain/attention_profile.h"
#include "explain/attributions.h"
#include "serve/scores.h"

namespace accent {

constexpr int64_t kGridTokens = 32;

struct ExplainReportInput {
  std::string model;                        // as given
  std::string base_model;                   // for the profile ("" = none)
  std::string data_path;                    // for the profile
  std::map<int64_t, std::string> id2label;  // the model's config
  std::optional<std::string> problem_type;  // the model's config (decides the score function)
  std::vector<TextExplanation> texts;
  int64_t grid_text = 0;                    // whose attention grid (its explanation must keep the attention)
  const AttentionProfile* profile = nullptr;
  std::vector<std::pair<std::string, double>> timings;
};

std::string explain_report_html(const ExplainReportInput& input);

// A word as people can see it in a table or a terminal: line breaks as ⏎, tabs as ⇥, other control characters as
// their Unicode control pictures (U+2400 + c), and a word made only of spaces as ␣ per space (at most 8, then "×N").
std::string visible_word(const std::string& word);

// id2label[id], or "LABEL_<id>" where the config has no name for it.
std::string label_name(const std::map<int64_t, std::string>& id2label, int64_t id);

// What `accent predict` answers for the explained text: the top label and its score (serve/scores.h: softmax for
// single-label, sigmoid for multi-label and one-output models, the raw value for regression).
LabelScore predicted_label(const TextExplanation& x, const std::map<int64_t, std::string>& id2label,
                           const std::optional<std::string>& problem_type);

}  // namespace accent
