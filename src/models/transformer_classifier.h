// models/transformer_classifier.h — what every model family shares, whatever its head (models/model_task.h): the
// config and its labels/problem type, the additive attention mask, the loss and its gradient, HF-style
// initialisation and save_pretrained. A family supplies its parameters, forward to logits and backward from
// d(logits).
//
//   mask_add = (1 − attention_mask)·finfo.min          (B, T)   (null when the batch has no mask)
//   logits   = family_forward(batch, mask_add)          (B, C) sequence classification, (B, T, C) token
//                                                        classification, (B, T, 2) question answering
//   loss     = sequence classification: by problem_type (models/classification_loss.h); inferred on the first
//              labelled batch and stored in the config, as HF does. Token classification / QA:
//              models/token_task_losses.h
// Device: set_op_context() moves every parameter (and its gradient) into the memory that context runs in
// (ops/memory.h) — the GPU's for Backend::Cuda — and forward/backward then stage the batch there (ids, mask,
// labels up; logits down): Batch and ForwardResult stay host data whatever the device.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/classifier.h"
#include "models/model_task.h"
#include "nn/freeze.h"
#include "nn/scratch.h"
#include "nn/token_packing.h"

namespace accent {

class BertEmbeddings;
class BertEncoder;

class TransformerClassifier : public SequenceClassifier {
 public:
  ParameterList parameters() override;
  int64_t num_labels() const override { return config_.num_labels(); }
  ProblemType problem_type() const override;
  ForwardResult forward(const Batch& batch) override;
  ForwardResult forward_backward(const Batch& batch, Rng& dropout_rng) override;
  const ModelConfig* config() const override { return &config_; }
  void set_problem_type(ProblemType type) override;
  // config.json (model_type kept, architectures = {architecture()}) + model.safetensors.
  void save_pretrained(const std::string& dir) const override;
  void set_op_context(const OpContext& ctx) override;
  OpContext op_context() const override { return ctx_; }
  void set_grad_ready_hook(GradReadyHook hook) override;
  // Unpadded execution (nn/token_packing.h; on by default, ACCENT_UNPADDED=0 turns it off): a sequence
  // classifier's batch with padding runs its layers on the real tokens only, and its last layer computes only the
  // row the head reads (keys and values of every token). Same logits, loss and gradients as the padded path up to
  // fp32 rounding; the same dropout masks.
  void set_unpadded_execution(bool on) { unpadded_ = on; }
  bool unpadded_execution() const { return unpadded_; }
  // How many real tokens the last forward ran its layers on when it ran unpadded; 0 when it ran padded.
  int64_t packed_tokens() const { return packing_ ? packing_->rows : 0; }
  // Whether the last forward's last layer computed only the head's rows.
  bool head_rows_only() const { return head_rows_ != nullptr; }

  // The head this model has.
  ModelTask task() const override { return task_; }
  // "RobertaForSequenceClassification", "BertForTokenClassification", ...: class_prefix() + the task's suffix.
  std::string architecture() const { return class_prefix() + task_class_suffix(task_); }
  // The transformers class-name prefix of the family: "Bert", "Roberta", "XLMRoberta", "Electra", "DistilBert", "GPT2".
  virtual std::string class_prefix() const = 0;
  // Logits per batch: B·C, B·T·C or B·T·2 values (see above).
  int64_t logits_count(int64_t B, int64_t T) const;
  // The base model's attribute name: "roberta", "electra", "distilbert", "transformer".
  virtual std::string base_prefix() const = 0;
  virtual std::string word_embeddings_name() const = 0;
  virtual int64_t vocab_size() const = 0;
  virtual int64_t hidden_size() const = 0;
  // HF _init_weights for one parameter, from `rng`.
  virtual void init_parameter(Parameter& p, const Rng& rng) const = 0;
  // Every parameter: parameter i draws from Rng(seed).fork(i).
  void init_weights(uint64_t seed);
  // model.config.pad_token_id = id after construction (HF's recipe when the checkpoint has none): saved in the
  // config, and the id the last-non-pad pooling of GPT-2/Qwen2/Llama skips. Embedding padding_idx is unchanged
  // (in HF it is fixed when the model is built).
  void set_pad_token_id(int64_t id);

  // --- For attributions (explain/) ---
  // The embeddings and encoder of the BERT-encoder families (BERT, RoBERTa/XLM-R, ELECTRA, DistilBERT); nulls
  // for the others (GPT-2).
  struct EncoderModules {
    BertEmbeddings* embeddings = nullptr;
    BertEncoder* encoder = nullptr;
  };
  virtual EncoderModules encoder_modules() { return {}; }
  // After forward(batch): d(logits) (logits_count values), host memory → the model's backward, as the trainer runs it from the
  // loss gradient (trainable parameters' gradients accumulate; BertEmbeddings::set_word_vectors_grad receives
  // d(word vectors)). Needs set_keep_layer_activations(true) before that forward.
  void backward_from_logits(const Batch& batch, const float* dlogits);
  // Inference (forward) holds one layer's activations at a time by default: the layers share their buffers
  // (nn/scratch.h InferenceScratch), as nothing reads them afterwards. On: forward keeps every layer's activations,
  // as training does — for backward_from_logits and for reading per-layer state (attention maps) afterwards.
  void set_keep_layer_activations(bool on) { keep_layer_activations_ = on; }

 protected:
  TransformerClassifier(ModelConfig config, ModelTask task);
  virtual void collect(ParameterList& out) = 0;
  // set_pad_token_id's effect on the family (after config_ holds the id); nothing for the encoder families.
  virtual void pad_token_id_changed() {}
  // logits (logits_count values) for `batch`; rng null = inference (no dropout, nothing needed for backward).
  virtual void forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) = 0;
  // d(logits) → parameter gradients (+=), after forward_logits on the same batch with an rng or for training.
  virtual void backward_logits(const Batch& batch, const float* dlogits) = 0;
  // The position in each sequence (B values) the sequence-classification head reads: [CLS]/<s> at 0, GPT-2's last
  // non-pad token. Unpadded execution needs it to be a real token.
  virtual std::vector<int64_t> head_positions(const Batch& batch) const = 0;
  virtual int64_t attention_heads() const = 0;
  // Whether the family's last layer can compute only the head rows (then run() gives it head_rows_).
  virtual bool computes_head_rows_only() const { return false; }
  // The current forward's packing of the batch's real tokens, set by run() before forward_logits; null = padded
  // (no padding, another head than sequence classification, unpadded execution off, or the GPU, where the
  // packed path is not measured yet). backward_logits uses the forward's.
  const TokenPacking* packing_ = nullptr;
  // The head's rows for the same forward (null = every row of the last layer).
  const HeadRows* head_rows_ = nullptr;

  // The usual _init_weights: LayerNorm weight 1 / bias 0, other biases 0, matrices ~ Normal(0, stddev), with
  // row `padding_row` zeroed (≥ 0) — for embeddings that have a padding_idx.
  static void init_standard(Parameter& p, const Rng& rng, float stddev, bool is_norm, int64_t padding_row = -1);
  // Where backward stops: with the embeddings frozen (--freeze-embeddings, LoRA) nothing below the lowest layer that
  // holds a trainable parameter or adapter (--freeze-layers N) needs a gradient, as in autograd; 0 otherwise.
  template <typename Layer>
  static int64_t lowest_layer_to_backprop(const std::vector<std::unique_ptr<Layer>>& layers, bool embeddings_trainable) {
    int64_t lowest = 0;
    if (!embeddings_trainable)
      while (lowest < static_cast<int64_t>(layers.size()) && !layers[static_cast<size_t>(lowest)]->trainable()) ++lowest;
    return lowest;
  }
  // The layers' rows (N, H) — packed with this forward's packing — in the padded (B·T, H) layout: unpacked into
  // `padded`, or `rows` itself when the forward runs padded.
  float* padded_rows(float* rows, ScratchBuffer& padded, int64_t B, int64_t T, int64_t H);
  // Whether any parameter of these modules (anything with collect(ParameterList&)) trains.
  template <typename... Modules>
  static bool any_trainable_in(Modules&... modules) {
    ParameterList params;
    (modules.collect(params), ...);
    return any_trainable(params);
  }
  // Backward through layers L−1 down to `lowest` from the top gradient dy (not in the second half of `grads`):
  // backward_layer(l, dy, dx) writes layer l's input gradient dx into one half of the ping-pong pair `grads`
  // (2 × na values; the second half first), then the layer's gradients are reported ready. Returns the gradient
  // below `lowest` (dy itself when no layer runs).
  template <typename Layer, typename BackwardLayer>
  float* backprop_layers(std::vector<std::unique_ptr<Layer>>& layers, int64_t lowest, float* dy, float* grads,
                         int64_t na, BackwardLayer&& backward_layer) {
    const int64_t L = static_cast<int64_t>(layers.size());
    for (int64_t l = L - 1; l >= lowest; --l) {
      float* dx = grads + ((L - l) % 2) * na;
      backward_layer(l, dy, dx);
      grads_ready(*layers[static_cast<size_t>(l)]);
      dy = dx;
    }
    return dy;
  }
  // Reports a module's parameters (anything with collect(ParameterList&)) to the grad-ready hook, if one is set.
  template <typename Module>
  void grads_ready(Module& module) {
    if (!grad_ready_hook_) return;
    ParameterList done;
    module.collect(done);
    grad_ready_hook_(done);
  }
  GradReadyHook grad_ready_hook_;

  ModelConfig config_;
  ModelTask task_;
  OpContext ctx_;

 private:
  ForwardResult run(const Batch& batch, Rng* rng, bool with_backward);
  bool unpadded_ = true;
  bool keep_layer_activations_ = false;
  TokenPacker packer_;
  std::vector<float> mask_add_host_;  // (B, T) built on the host, then copied into mask_add_
  ScratchBuffer mask_add_;            // (B, T)
  ScratchBuffer logits_;              // (B, C)
  ScratchBuffer dlogits_;             // (B, C)
  ScratchBuffer labels_;              // the batch's labels in ctx_'s memory
};

// Batch sizes consistent (B×T ids, mask and token types when present).
void check_batch_shape(const Batch& batch);

}  // namespace accent
