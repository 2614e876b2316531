// explain/attention_profile.h — what fine-tuning changed in where the model looks: the attention profile of a
// fine-tuned model against its base over a labelled data set.
//
// Both models read the same token ids (the fine-tuned model's tokenizer). For every row r and every word w of
// it (explain/attributions.h words), with A(w) = Σ_{t∈w} mean_{l,h} P^l_h[0, t] the [CLS] attention mass the
// word receives (attention_mean):
//
//   diff(r, w)   = A_tuned(r, w) − A_base(r, w)              paired: the same occurrence under both models
//   per (label, word), over its n occurrences (rows whose gold label is `label`):
//     mean_base, mean_tuned, mean_diff = mean diff
//     effect     = mean_diff / sd(diff)                       paired Cohen's d_z (sd with n − 1; 0 when sd = 0)
//     attribution = mean gradient × input of the fine-tuned model for the row's gold class (explain/attributions.h)
//   words with n ≥ min_count are ranked by mean_diff (how much attention mass moved), the most increased and the most
//   decreased, per label and over all labels; the effect size says how consistently (a rare word's tiny but steady
//   shift has a large d_z, so d_z alone would rank noise-sized changes first).
//   per (layer, head): mean over rows and over the real query tokens i of the Jensen–Shannon divergence (bits,
//     in [0, 1]) between the base's and the fine-tuned model's attention distributions P_h^l[i, ·]:
//     JS(p, q) = ½·KL(p‖m) + ½·KL(q‖m), m = (p + q)/2.
//
// The base model's own classification head is new (random), so attributions are reported for the fine-tuned
// model only: attention needs no head.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "explain/attributions.h"

namespace accent {

struct ProfileOptions {
  int64_t batch_size = 16;
  int64_t min_count = 5;   // occurrences a word needs to be ranked
  int64_t top = 15;        // words listed per direction and label
};

struct WordShift {
  std::string word;
  int64_t count = 0;
  double mean_base = 0, mean_tuned = 0, mean_diff = 0, effect = 0, attribution = 0;
};

struct LabelProfile {
  std::string label;                   // "" = every label together
  int64_t rows = 0;
  std::vector<WordShift> increased;    // mean_diff > 0, largest first
  std::vector<WordShift> decreased;    // mean_diff < 0, most negative first
  std::vector<WordShift> attributed;   // largest mean attribution first (toward this label's class)
};

struct AttentionProfile {
  int64_t rows = 0, layers = 0, heads = 0;
  std::vector<LabelProfile> labels;    // one per gold label, then the "" (all) entry
  std::vector<double> head_divergence; // (L, NH) mean JS divergence, bits
  std::vector<double> layer_divergence;  // (L) mean over heads
  double seconds = 0;
};

// `labels[i]` is row i's gold label name (the fine-tuned model's id2label gives its class; unknown names use the
// predicted class for the attribution). `progress` (optional) is called with rows done.
AttentionProfile attention_profile(Explainer& tuned, Explainer& base, const std::vector<std::string>& texts,
                                   const std::vector<std::string>& labels, const std::vector<int64_t>& label_ids,
                                   const ProfileOptions& options);

// JS divergence in bits of two distributions of n entries.
double js_divergence_bits(const float* p, const float* q, int64_t n);

}  // namespace accent
