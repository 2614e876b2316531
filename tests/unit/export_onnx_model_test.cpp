// The ONNX graphs of export/: for a random model of every family (models/registry.h create_sequence_classifier),
// onnx_model_for gives optimum's interface (input names, int64 (batch_size, sequence_length) inputs, float logits
// (batch_size, num_labels)), opset 17, every model parameter as an initializer under its HF name (".T" for a
// Linear weight stored transposed), and passes ONNX's checker in memory. Numbers are checked end to end against
// ONNX Runtime in cli_export_test.
#include <gtest/gtest.h>

#include <onnx/checker.h>

#include <set>

#include "core/error.h"
#include "export/onnx_export.h"
#include "models/registry.h"

using namespace accent;

namespace {

ModelConfig tiny_config(const std::string& family) {
  ModelConfig c;
  c.model_type = family;
  c.vocab_size = 120;
  c.hidden_size = 16;
  c.num_hidden_layers = 2;
  c.num_attention_heads = 2;
  c.intermediate_size = 32;
  c.max_position_embeddings = 40;
  c.pad_token_id = family == "roberta" ? 1 : 0;
  c.type_vocab_size = family == "roberta" ? 1 : 2;
  if (family == "electra") c.embedding_size = 8;
  if (family == "gpt2") {
    c.hidden_act = "gelu_new";
    c.layer_norm_eps = 1e-5;
  }
  c.set_num_labels(3);
  return c;
}

std::vector<std::string> dims_of(const onnx::ValueInfoProto& v) {
  std::vector<std::string> out;
  for (const auto& d : v.type().tensor_type().shape().dim())
    out.push_back(d.has_dim_param() ? d.dim_param() : std::to_string(d.dim_value()));
  return out;
}

void check_family(const std::string& family, const std::vector<std::string>& inputs) {
  SCOPED_TRACE(family);
  auto model = create_sequence_classifier(tiny_config(family), 7);
  std::vector<std::string> names;
  const onnx::ModelProto m = onnx_model_for(*model, 17, &names);
  EXPECT_EQ(names, inputs);
  ASSERT_EQ(m.opset_import_size(), 1);
  EXPECT_EQ(m.opset_import(0).version(), 17);
  const onnx::GraphProto& g = m.graph();
  ASSERT_EQ(g.input_size(), static_cast<int>(inputs.size()));
  for (int i = 0; i < g.input_size(); ++i) {
    EXPECT_EQ(g.input(i).name(), inputs[i]);
    EXPECT_EQ(g.input(i).type().tensor_type().elem_type(), onnx::TensorProto::INT64);
    EXPECT_EQ(dims_of(g.input(i)), (std::vector<std::string>{"batch_size", "sequence_length"}));
  }
  ASSERT_EQ(g.output_size(), 1);
  EXPECT_EQ(g.output(0).name(), "logits");
  EXPECT_EQ(g.output(0).type().tensor_type().elem_type(), onnx::TensorProto::FLOAT);
  EXPECT_EQ(dims_of(g.output(0)), (std::vector<std::string>{"batch_size", "3"}));
  std::set<std::string> initializers;
  for (const auto& t : g.initializer()) initializers.insert(t.name());
  for (const Parameter* p : model->parameters())
    EXPECT_TRUE(initializers.count(p->name) || initializers.count(p->name + ".T")) << p->name;
  EXPECT_NO_THROW(onnx::checker::check_model(m));
}

}  // namespace

TEST(ExportOnnxModel, EveryFamilyHasOptimumsInterface) {
  check_family("bert", {"input_ids", "attention_mask", "token_type_ids"});
  check_family("roberta", {"input_ids", "attention_mask"});
  check_family("electra", {"input_ids", "attention_mask", "token_type_ids"});
  check_family("distilbert", {"input_ids", "attention_mask"});
  check_family("gpt2", {"input_ids", "attention_mask"});
}

TEST(ExportOnnxModel, OpsetBelowLayerNormalizationIsRefused) {
  auto model = create_sequence_classifier(tiny_config("bert"), 7);
  try {
    onnx_model_for(*model, 16);
    FAIL() << "opset 16 was accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("LayerNormalization"), std::string::npos) << e.what();
  }
}
