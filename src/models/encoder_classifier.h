// models/encoder_classifier.h — the BERT-encoder families, built from the BERT blocks (bert_embeddings,
// bert_encoder) with their family's names, position ids and head (spec checkpoints.md §4–5):
//
//   BERT                    "bert.embeddings.*" (word, position, token type), "bert.encoder.*"; sequence head
//                           "bert.pooler.dense" → tanh → Dropout_c → "classifier" on [CLS]
//   RoBERTa / XLM-RoBERTa   "roberta.embeddings.*" (positions pad+1, pad+2, … skipping padding; token types
//                           unused: HF's tokenizer gives none, so all 0), "roberta.encoder.*", no pooler;
//                           head "classifier.dense" → tanh → "classifier.out_proj" on <s> (dropout before each)
//   ELECTRA (discriminator) "electra.embeddings.*" of width embedding_size E, "electra.embeddings_project" (H, E)
//                           when E ≠ H, "electra.encoder.*"; head as RoBERTa with exact GELU
//   DistilBERT              "distilbert.embeddings.{word,position}_embeddings, LayerNorm" (no token types),
//                           "distilbert.transformer.layer.L.{attention.{q,k,v,out}_lin, sa_layer_norm, ffn.lin1,
//                           ffn.lin2, output_layer_norm}" (a BERT layer under DistilBERT's names, no dropout on the
//                           attention output); head "pre_classifier" → ReLU → Dropout(seq_classif_dropout) →
//                           "classifier".
// The token-classification and question-answering heads (any family) are models/per_token_head.h: "classifier"
// over every token after Dropout(classifier_dropout ?? hidden_dropout_prob; DistilBERT: dropout), or "qa_outputs"
// (no dropout; DistilBERT: qa_dropout). Their models have no BERT pooler.
// DistilBERT scales q by 1/√D before Q·Kᵀ and sets masked scores to finfo.min, where BERT divides the scores
// and adds finfo.min: the same softmax (masked probabilities are exactly 0 either way; rounding differs in the
// last bit only), so the BERT attention is reused.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "models/bert_dims.h"
#include "models/bert_embeddings.h"
#include "models/bert_encoder.h"
#include "models/cls_token_head.h"
#include "models/per_token_head.h"
#include "models/transformer_classifier.h"

namespace accent {

enum class EncoderFamily { Bert, Roberta, XlmRoberta, Electra, DistilBert };

class EncoderClassifier final : public TransformerClassifier {
 public:
  EncoderClassifier(EncoderFamily family, ModelConfig config, ModelTask task = ModelTask::SequenceClassification,
                    const std::string& origin = "config");

  std::string class_prefix() const override;
  std::string base_prefix() const override;
  std::string word_embeddings_name() const override { return embeddings_.word.weight.name; }
  int64_t vocab_size() const override { return dims_.V; }
  int64_t hidden_size() const override { return dims_.H; }
  void init_parameter(Parameter& p, const Rng& rng) const override;
  EncoderFamily family() const { return family_; }
  EncoderModules encoder_modules() override { return {&embeddings_, &encoder_}; }
  const BertDims& dims() const { return dims_; }
  // Every Linear (for LoRA), in state-dict order, HF module names (DistilBERT's q_lin/…/ffn.lin2 included).
  std::vector<NamedLinear> linear_modules() override;

 protected:
  void collect(ParameterList& out) override;
  void forward_logits(const Batch& batch, const float* mask_add, float* logits, Rng* rng) override;
  void backward_logits(const Batch& batch, const float* dlogits) override;
  int64_t attention_heads() const override { return dims_.NH; }
  bool computes_head_rows_only() const override { return true; }
  std::vector<int64_t> head_positions(const Batch& batch) const override {
    return std::vector<int64_t>(static_cast<size_t>(batch.B), 0);  // [CLS] / <s>
  }

 private:
  EncoderFamily family_;
  BertDims dims_;             // the encoder's (H wide)
  BertDims embedding_dims_;   // the embeddings' (E wide; = dims_ except ELECTRA with embedding_size ≠ hidden_size)
  BertEmbeddings embeddings_;
  std::unique_ptr<Linear> projection_;  // ELECTRA embeddings_project (H, E), or null
  BertEncoder encoder_;
  ClsTokenHead head_;           // sequence classification
  PerTokenHead token_head_;     // token classification / question answering
  ScratchBuffer e0_;     // (B, T, E) embeddings output (ELECTRA with projection)
  ScratchBuffer x0_;     // (B, T, H) encoder input
  ScratchBuffer grads_;  // 2 × (B, T, H) + (B, T, E): d(last hidden), d(x0), d(e0)
};

}  // namespace accent
