#include "export/onnx_encoder_graph.h"

#include <cmath>

#include "core/error.h"
#include "models/bert_dims.h"

namespace accent {

namespace {

// The HF module names of one family (models/encoder_classifier.cpp's prefixes and DistilBERT renames).
struct EncoderNames {
  std::string base;         // "bert", "roberta", "electra", "distilbert"
  std::string layer;        // "<base>.encoder.layer." or "distilbert.transformer.layer."
  std::string query, key, value, attention_out, attention_norm, ffn_in, ffn_out, output_norm;  // within a layer
};

EncoderNames names_of(const std::string& family) {
  EncoderNames n;
  n.base = family == "xlm-roberta" ? "roberta" : family;  // XLMRobertaForSequenceClassification keeps "roberta"
  if (family == "distilbert") {
    n.layer = "distilbert.transformer.layer.";
    n.query = "attention.q_lin", n.key = "attention.k_lin", n.value = "attention.v_lin";
    n.attention_out = "attention.out_lin", n.attention_norm = "sa_layer_norm";
    n.ffn_in = "ffn.lin1", n.ffn_out = "ffn.lin2", n.output_norm = "output_layer_norm";
  } else {
    n.layer = n.base + ".encoder.layer.";
    n.query = "attention.self.query", n.key = "attention.self.key", n.value = "attention.self.value";
    n.attention_out = "attention.output.dense", n.attention_norm = "attention.output.LayerNorm";
    n.ffn_in = "intermediate.dense", n.ffn_out = "output.dense", n.output_norm = "output.LayerNorm";
  }
  return n;
}

const std::vector<std::string> kBatchSeq = {"batch_size", "sequence_length"};

// Position ids (B, T) or (T): RoBERTa's padding-aware ones, else 0..T−1.
std::string position_ids(OnnxGraph& g, const std::string& input_ids, bool padding_offset, int64_t pad) {
  if (!padding_offset) return onnx_range(g, onnx_dim(g, input_ids, 1, "embeddings/T"), "embeddings/positions");
  // create_position_ids_from_input_ids: m = (ids ≠ pad); positions = cumsum(m, dim=1)·m + pad.
  const std::string is_pad = g.op("Equal", {input_ids, g.constant_i64("pad", {pad}, true)}, "embeddings/is_pad");
  const std::string m = g.op("Cast", {g.op("Not", {is_pad}, "embeddings/is_token")}, "embeddings/token_mask",
                             {OnnxAttribute::integer("to", onnx::TensorProto::INT64)});
  const std::string count = g.op("CumSum", {m, g.constant_i64("axis", {1}, true)}, "embeddings/token_count");
  return g.op("Add", {g.op("Mul", {count, m}, "embeddings/counted"), g.constant_i64("pad", {pad}, true)},
              "embeddings/positions");
}

}  // namespace

std::vector<std::string> build_encoder_graph(OnnxGraph& g, NamedWeights& w, const ModelConfig& config,
                                             const std::string& family) {
  ACCENT_CHECK(family == "bert" || family == "roberta" || family == "xlm-roberta" || family == "electra" ||
                   family == "distilbert",
               "export: \"", family, "\" is not a BERT-family encoder");
  const BertDims d = BertDims::from_config(config, "config.json");
  const EncoderNames n = names_of(family);
  const bool roberta = family == "roberta" || family == "xlm-roberta";
  const bool token_type_input = family == "bert" || family == "electra";
  const std::string emb = n.base + ".embeddings";

  std::vector<std::string> inputs = {"input_ids", "attention_mask"};
  if (token_type_input) inputs.push_back("token_type_ids");
  for (const auto& in : inputs) g.add_input(in, onnx::TensorProto::INT64, {-1, -1}, kBatchSeq);
  g.add_output("logits", onnx::TensorProto::FLOAT, {-1, d.C}, {"batch_size", ""});

  // Embeddings: word + token type + position (HF's order), LayerNorm. (B, T, E)
  std::string x = g.op("Gather", {g.weight(emb + ".word_embeddings.weight", w.at(emb + ".word_embeddings.weight")),
                                  "input_ids"},
                       "embeddings/word");
  const std::string tt_name = emb + ".token_type_embeddings.weight";
  if (w.contains(tt_name)) {
    const std::string table = g.weight(tt_name, w.at(tt_name));
    // BERT/ELECTRA: the token_type_ids input; RoBERTa: its tokenizer gives none, so every token has type 0.
    const std::string types = token_type_input ? "token_type_ids" : g.constant_i64("type_zero", {0}, true);
    x = g.op("Add", {x, g.op("Gather", {table, types}, "embeddings/token_type")}, "embeddings/word_type");
  }
  ACCENT_CHECK(!roberta || d.pad >= 0, "config.json: RoBERTa needs pad_token_id (position ids start after it)");
  const std::string positions = position_ids(g, "input_ids", roberta, d.pad);
  x = g.op("Add",
           {x, g.op("Gather", {g.weight(emb + ".position_embeddings.weight", w.at(emb + ".position_embeddings.weight")),
                               positions},
                    "embeddings/position")},
           "embeddings/sum");
  x = onnx_layer_norm(g, w, emb + ".LayerNorm", x, d.eps);
  if (w.contains(n.base + ".embeddings_project.weight")) x = onnx_linear(g, w, n.base + ".embeddings_project", x);

  // Encoder: L post-LN layers over (B, T, H).
  const std::string mask_add = onnx_additive_key_mask(g, "attention_mask");  // (B, 1, 1, T)
  const int64_t D = d.H / d.NH;
  const float scale = std::sqrt(static_cast<float>(D));
  for (int64_t l = 0; l < d.L; ++l) {
    const std::string p = n.layer + std::to_string(l) + ".";
    const std::string q = onnx_linear(g, w, p + n.query, x);
    const std::string k = onnx_linear(g, w, p + n.key, x);
    const std::string v = onnx_linear(g, w, p + n.value, x);
    const std::string context = onnx_attention(g, q, k, v, mask_add, d.NH, D, scale, p + "attention");
    const std::string attended = g.op("Add", {onnx_linear(g, w, p + n.attention_out, context), x}, p + "attention/residual");
    const std::string x1 = onnx_layer_norm(g, w, p + n.attention_norm, attended, d.eps);
    const std::string inner = onnx_activation(g, d.act, onnx_linear(g, w, p + n.ffn_in, x1), p + "ffn/act");
    const std::string fed = g.op("Add", {onnx_linear(g, w, p + n.ffn_out, inner), x1}, p + "ffn/residual");
    x = onnx_layer_norm(g, w, p + n.output_norm, fed, d.eps);
  }

  // Head on the first token.
  const std::string first = onnx_token_at(g, x, 0, "head/first_token");  // (B, H)
  std::string logits;
  if (family == "bert") {
    const std::string pooled = g.op("Tanh", {onnx_linear(g, w, "bert.pooler.dense", first)}, "head/pooled");
    logits = onnx_linear(g, w, "classifier", pooled);
  } else if (family == "distilbert") {
    const std::string h = g.op("Relu", {onnx_linear(g, w, "pre_classifier", first)}, "head/pre_classifier_relu");
    logits = onnx_linear(g, w, "classifier", h);
  } else {
    const Activation act = family == "electra" ? Activation::Gelu : Activation::Tanh;
    const std::string h = onnx_activation(g, act, onnx_linear(g, w, "classifier.dense", first), "head/act");
    logits = onnx_linear(g, w, "classifier.out_proj", h);
  }
  g.op_into("Identity", {logits}, "logits");
  return inputs;
}

}  // namespace accent
