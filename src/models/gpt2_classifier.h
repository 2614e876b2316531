// models/gpt2_classifier.h — GPT2ForSequenceClassification / GPT2ForTokenClassification / GPT2ForQuestionAnswering,
// forward and hand-written backward.
//
//   X0 = Dropout_embd(wte[ids] + wpe[0..T−1])          positions ignore padding; token types unused (HF's GPT-2
//                                                       tokenizer gives none)
//   X  = GPT2Block_L(…GPT2Block_1(X0))                  models/gpt2_block.h (pre-LN, causal)
//   logits[b] = ln_f(X[b, last_b])·Wscoreᵀ              score (C, H), no bias; ln_f and the score head are per
//                                                       row, so only the pooled rows are computed
//   last_b = the rightmost position whose id ≠ pad_token_id (transformers ≥ 4.48; 0 when the row is all pad).
//   Unpadded execution (models/transformer_classifier.h): the blocks run on the packed real tokens, and the last
//   block computes its attention output, MLP and residuals for the pooled rows only (Gpt2Block::forward_head_rows).
//   Token classification: logits[b, t] = Dropout(ln_f(X[b, t]))·Wᵀ + bias, "classifier" (C, H), p = classifier_dropout
//   ?? hidden_dropout ?? 0.1 (config keys); question answering: "qa_outputs" (2, H), no dropout
//   (models/per_token_head.h) — ln_f then runs over every row.
// pad_token_id: GPT-2 has none; as in HF's fine-tuning recipe (model.config.pad_token_id = eos_token_id) the
// config's eos_token_id is used and written into the config, so batches can be padded and the model saved with it.
// Parameters "transformer.wte.weight", "transformer.wpe.weight", "transformer.h.L.…", "transformer.ln_f.*",
// "score.weight". Init (GPT2PreTrainedModel._init_weights): Normal(0, σ) for matrices and embeddings,
// Normal(0, σ/√(2·n_layer)) for every c_proj.weight, biases 0, LayerNorm 1/0.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/gpt2_block.h"
#include "models/last_token_head.h"
#include "models/transformer_classifier.h"
#include "nn/dropout.h"
#include "nn/embedding.h"
#include "nn/layer_norm.h"
#include "nn/linear.h"

namespace accent {

class Gpt2Classifier final : public TransformerClassifier {
 public:
  explicit Gpt2Classifier(ModelConfig config, ModelTask task = ModelTask::SequenceClassification,
                          const std::string& origin = "config");

  std::string class_prefix() const override { return "GPT2"; }
  std::string base_prefix() const override { return "transformer"; }
  std::string word_embeddings_name() const override { return wte_.weight.name; }
  int64_t vocab_size() const override { return dims_.V; }
  int64_t hidden_size() const override { return dims_.H; }
  void init_parameter(Parameter& p, const Rng& rng) const override;
  const Gpt2Dims& dims() const { return dims_; }
  // Every Conv1D (c_attn, attn.c_proj, mlp.c_fc, mlp.c_proj per block) in state-dict order, then the head.
  std::vector<NamedLinear> linear_modules() override;

 protected:
  void collect(ParameterList& out) override;
  void forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) override;
  void backward_logits(const Batch& batch, const float* dlogits) override;
  std::vector<int64_t> head_positions(const Batch& batch) const override;  // last_b
  int64_t attention_heads() const override { return dims_.NH; }
  void pad_token_id_changed() override { dims_.pad = *config_.pad_token_id; }
  bool computes_head_rows_only() const override { return true; }

 private:
  Gpt2Dims dims_;
  Embedding wte_, wpe_;
  std::vector<std::unique_ptr<Gpt2Block>> blocks_;
  LastTokenHead<LayerNorm> head_;  // ln_f, then score / the per-token head
  Dropout embd_dropout_;
  std::vector<int32_t> ids_host_;  // 2 × (B, T) + B int32: ids, positions, pooled row b·T + last_b (built on the host)
  ScratchBuffer ids_;              // their copy in the ops' memory
  ScratchBuffer hidden_;       // (L + 1) × (rows, H): X0 and every block output (packed rows with a packing)
  ScratchBuffer padded_;       // (B, T, H) with a packing: X0 before packing, the last state unpacked, gradients
  ScratchBuffer grads_;        // 2 × (B, T, H) ping-pong gradients
  std::vector<float> head_mask_host_;  // (B, T) key mask + each pooled row's causal cut (head rows)
  ScratchBuffer head_mask_;
  // The last block's key mask for the pooled rows: the batch's additive mask plus finfo.min after last_b.
  const float* head_mask(const Batch& batch, const std::vector<int64_t>& last);
};

}  // namespace accent
