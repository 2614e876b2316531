// models/deberta_classifier.h — DebertaV2ForSequenceClassification / DebertaV2ForTokenClassification (DeBERTa-v2
// and -v3, model_type "deberta-v2"), forward and hand-written backward (question answering is refused: see the
// constructor).
//
//   X0  = Dropout(LayerNorm(word_embeddings[ids]))      no absolute positions (position_biased_input = false), no
//                                                      token types (type_vocab_size = 0); HF also multiplies by the
//                                                      mask, which only zeroes padded rows nothing real reads
//   Rel = encoder.LayerNorm(encoder.rel_embeddings)    (2·att_span, H), norm_rel_ebd = "layer_norm"
//   X   = DebertaLayer_L(…DebertaLayer_1(X0, Rel))     models/deberta_layer.h; the relative index
//                                                      models/deberta_relative_positions.h
//   sequence classification: logits = classifier(Dropout_cls(act(pooler.dense(Dropout_pool(X[:, 0])))))
//                            (ContextPooler + the model's dropout; models/cls_token_head.h)
//   token classification:    logits[b, t] = classifier(Dropout(X[b, t]))
// Unpadded execution (models/transformer_classifier.h): the dense layers run on the packed real tokens.
// Parameters "deberta.embeddings.{word_embeddings, LayerNorm}.*", "deberta.encoder.layer.L.…",
// "deberta.encoder.rel_embeddings.weight", "deberta.encoder.LayerNorm.*", "pooler.dense.*", "classifier.*".
// Init (DebertaV2PreTrainedModel._init_weights): Linear and Embedding ~ Normal(0, initializer_range), the
// padding row 0, biases 0, LayerNorms 1/0.
// Refused configs (an error names the key): relative_attention false, position_biased_input true, type_vocab_size
// > 0, embedding_size ≠ hidden_size, share_att_key false, conv_kernel_size > 0, norm_rel_ebd without layer_norm,
// pos_att_type other than c2p / p2c, pooler_hidden_size ≠ hidden_size.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/cls_token_head.h"
#include "models/deberta_layer.h"
#include "models/per_token_head.h"
#include "models/transformer_classifier.h"
#include "models/normed_token_embeddings.h"
#include "nn/embedding.h"

namespace accent {

class DebertaClassifier final : public TransformerClassifier {
 public:
  explicit DebertaClassifier(ModelConfig config, ModelTask task = ModelTask::SequenceClassification,
                             const std::string& origin = "config");

  std::string class_prefix() const override { return "DebertaV2"; }
  std::string base_prefix() const override { return "deberta"; }
  std::string word_embeddings_name() const override { return embeddings_.word.weight.name; }
  int64_t vocab_size() const override { return dims_.V; }
  int64_t hidden_size() const override { return dims_.H; }
  void init_parameter(Parameter& p, const Rng& rng) const override;
  const DebertaDims& dims() const { return dims_; }
  // query_proj, key_proj, value_proj, attention.output.dense, intermediate.dense, output.dense per layer, then
  // pooler.dense and the classifier (head).
  std::vector<NamedLinear> linear_modules() override;

 protected:
  void collect(ParameterList& out) override;
  void forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) override;
  void backward_logits(const Batch& batch, const float* dlogits) override;
  std::vector<int64_t> head_positions(const Batch& batch) const override;  // 0: [CLS]
  int64_t attention_heads() const override { return dims_.NH; }

 private:
  DebertaDims dims_;
  NormedTokenEmbeddings embeddings_;  // deberta.embeddings.{word_embeddings, LayerNorm}
  std::vector<std::unique_ptr<DebertaLayer>> layers_;
  Embedding rel_embeddings_;
  LayerNorm rel_norm_;
  ClsTokenHead pooler_head_;  // sequence classification
  PerTokenHead token_head_;   // token classification
  std::vector<int32_t> ids_host_;  // (B, T) ids, then the (T, T) relative index
  ScratchBuffer ids_;              // their copy in the ops' memory
  ScratchBuffer rel_;       // (R, H) Rel = LayerNorm(rel_embeddings)
  ScratchBuffer drel_;      // (R, H) its gradient, summed over the layers
  ScratchBuffer hidden_;    // (L + 1) × (rows, H): X0 and every layer output (packed rows with a packing)
  ScratchBuffer padded_;    // (B·T, H): X0 before packing, X_L unpacked, gradients
  ScratchBuffer grads_;     // 2 × (rows, H) ping-pong gradients
};

}  // namespace accent
