// explain/attributions.h — why a sequence classifier predicted what it did: per-token attributions by five
// methods, from the very forward and backward the trainer runs (models/transformer_classifier.h), for the
// BERT-encoder families (BERT, RoBERTa/XLM-R, ELECTRA, DistilBERT).
//
// One text, tokens t = 0..T−1 (position 0 is [CLS] / <s>), attention probabilities P^l_h (T, T) of layer l and
// head h (eval mode: no dropout), word vectors e_t = word_embeddings[id_t] ∈ R^E, and the explained output
// f(e) = logit_c of class c (the predicted class unless asked otherwise; the single output for regression):
//
//   attention_last[t]       = mean_h P^{L−1}_h[0, t]              attention the [CLS] row pays in the last layer
//   attention_mean[t]       = mean_{l,h} P^l_h[0, t]               … averaged over every layer and head
//   attention_rollout[t]    = R[0, t],  R = Â^{L−1}·…·Â^0,  Â^l = ½·mean_h P^l_h + ½·I
//                             (Abnar & Zuidema 2020: the residual connection as the identity; rows sum to 1)
//   gradient_x_input[t]     = Σ_d e_{t,d} · ∂f/∂e_{t,d}
//   integrated_gradients[t] = Σ_d (e_{t,d} − e'_{t,d}) · ∫₀¹ ∂f/∂e_{t,d}(e' + α(e − e')) dα
//                             (Sundararajan et al. 2017) with the all-zero baseline e' = 0 on the word vectors
//                             (position and token-type embeddings stay), the integral by the trapezoid rule over
//                             m steps (m + 1 gradient evaluations). Completeness: Σ_t IG[t] = f(e) − f(e') for the
//                             exact integral; the rule's error |Σ_t IG[t] − (f(e) − f(e'))| is reported.
//
// Attention methods are ≥ 0 and sum to 1 over the tokens; the gradient methods are signed (positive = pushes the
// explained logit up). Word scores (transformers' word_ids(): every pre-tokenized word) sum their tokens' scores,
// which keeps completeness and the attention mass.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/transformer_classifier.h"
#include "text/tokenizer.h"

namespace accent {

enum class AttributionMethod { AttentionLast, AttentionMean, AttentionRollout, GradientXInput, IntegratedGradients };
constexpr int kAttributionMethods = 5;
// "attention_last", "attention_mean", "attention_rollout", "gradient_x_input", "integrated_gradients".
const char* attribution_method_name(AttributionMethod m);
// One line: what the method computes (for the JSON and the page).
const char* attribution_method_formula(AttributionMethod m);

struct ExplainOptions {
  int64_t ig_steps = 50;              // m: trapezoid intervals of the integrated-gradients path
  std::optional<int64_t> target;      // explained class; default the predicted one (argmax of the logits)
  int64_t ig_batch = 16;              // path points per forward/backward
  bool keep_attention = false;        // keep every layer's P (L, NH, T, T) in the result (for the attention grid)
};

struct ExplainedWord {
  std::string text;                   // the word as its tokens spell it (WordPiece "##" and byte-level marks undone)
  std::vector<int64_t> tokens;        // its token positions
};

struct TextExplanation {
  Encoding encoding;                  // ids, tokens, word_ids as the model saw them
  std::vector<float> logits;          // (C)
  int64_t target = 0;                 // explained class
  // scores[method][t], t over the tokens (special tokens included).
  std::vector<std::vector<float>> token_scores;
  std::vector<ExplainedWord> words;   // the words of the text (special tokens are not words)
  std::vector<std::vector<float>> word_scores;  // [method][w]
  // Integrated gradients: f(e), f(e'), Σ IG and the completeness error |Σ IG − (f(e) − f(e'))|.
  double f_input = 0, f_baseline = 0, ig_sum = 0, ig_completeness_error = 0;
  int64_t ig_steps = 0;
  int64_t layers = 0, heads = 0;
  std::vector<float> attention;       // (L, NH, T, T) when ExplainOptions::keep_attention
};

// A model and its tokenizer, ready to explain texts (the model is put in eval mode and every parameter frozen:
// backward then produces input gradients only; its unpadded execution is turned off, since attention rollout reads
// every query row of the last layer — the model stays that way).
class Explainer {
 public:
  // `model` must be a BERT-encoder family in host memory; `max_tokens` truncates longer texts.
  Explainer(TransformerClassifier& model, const Tokenizer& tokenizer, int64_t max_tokens);

  TextExplanation explain(const std::string& text, const ExplainOptions& options);

  // For the attention profile: per text of a batch, the [CLS] attention of every layer and head (L, NH, T) and,
  // when `gradients` is set, gradient × input for class `targets[i]` (−1 or absent = the predicted class).
  struct BatchAttention {
    std::vector<Encoding> encodings;
    std::vector<std::vector<float>> cls_attention;   // per text (L, NH, T_i)
    std::vector<std::vector<float>> grad_x_input;    // per text (T_i), empty without gradients
    std::vector<std::vector<float>> logits;          // per text (C)
    // Per text, per (layer, head): the attention rows of the real tokens, (L, NH, T_i, T_i), when kept.
    std::vector<std::vector<float>> attention;
  };
  BatchAttention run_batch(const std::vector<std::string>& texts, bool gradients, bool keep_attention,
                           const std::vector<int64_t>& targets = {});

  const Tokenizer& tokenizer() const { return tokenizer_; }
  int64_t layers() const;
  int64_t heads() const;
  int64_t num_labels() const { return model_.num_labels(); }

 private:
  Encoding encode(const std::string& text) const;
  // The word vectors word_embeddings[ids] (T, E).
  std::vector<float> word_vectors(const std::vector<int32_t>& ids) const;
  // Forward of `batch` with the given word vectors (B·T, E; null = looked up) → logits (B, C); with `targets`,
  // backward of Σ_b logit[b, targets[b]] → d(word vectors) (B·T, E) into `grad` (a target −1 is replaced by
  // that row's predicted class).
  std::vector<float> forward_backward(const Batch& batch, const float* vectors, std::vector<int64_t>* targets,
                                      std::vector<float>* grad);

  TransformerClassifier& model_;
  const Tokenizer& tokenizer_;
  TransformerClassifier::EncoderModules modules_;
  int64_t max_tokens_;
  int64_t E_ = 0;
};

// Words of an encoding (by word_ids; special and padding tokens belong to none) and their display text.
std::vector<ExplainedWord> words_of(const Encoding& e, TokenizerFamily family);
// A token as the text spells it: WordPiece "##" continuation dropped, byte-level symbols decoded to UTF-8.
std::string token_text(const std::string& token, TokenizerFamily family);
// Attention rollout from position 0 over `layers` head-averaged maps (each (T, T)), see above.
std::vector<float> attention_rollout(const std::vector<std::vector<float>>& head_mean_maps, int64_t T);

}  // namespace accent
