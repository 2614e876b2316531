// Proof of exactness for the non-BERT families (RoBERTa, ELECTRA with an embedding projection, DistilBERT):
// accent against the PyTorch twin tests/reference/family_twin.py (HF's math in torch) on the same weights —
// logits, loss and every parameter gradient, as models_twin_check.h defines. Also: pytorch_model.bin loading
// (alone, sharded, and losing to model.safetensors when both exist) and save_pretrained read back by the twin.
#include <cstdlib>
#include <filesystem>

#include "models/encoder_classifier.h"
#include "models_twin_check.h"

using namespace accent;
using namespace accent::testing;

namespace {

const std::string kTwin = std::string(ACCENT_SOURCE_DIR) + "/tests/reference/family_twin.py";

void run_family_twin(const std::string& out, const std::string& family, const std::string& problem,
                     const std::string& act, bool with_bin = false) {
  const std::string cmd = "/usr/bin/python3 " + kTwin + " gen --out " + out + " --family " + family + " --problem " +
                          problem + " --act " + act + (with_bin ? " --bin" : "");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

void check_family(const std::string& family, const std::string& problem, const std::string& act,
                  Backend backend = Backend::Cpu) {
  TempDir dir("family_twin_" + family + "_" + problem + "_" + act + "_" + backend_name(backend));
  run_family_twin(dir.str(), family, problem, act);
  check_dir_against_expected(dir, backend, family + "/" + problem + "/" + act + "/" + backend_name(backend));
}

LoadOptions quiet() {
  LoadOptions o;
  o.print_warnings = false;
  return o;
}

}  // namespace

TEST(FamilyTwin, RobertaSingleLabel) { check_family("roberta", "single", "gelu"); }
TEST(FamilyTwin, RobertaRegressionRefBackend) { check_family("roberta", "regression", "gelu", Backend::Ref); }
TEST(FamilyTwin, ElectraWithProjectionMultiLabel) { check_family("electra", "multi", "gelu"); }
TEST(FamilyTwin, ElectraSingleLabelGeluNew) { check_family("electra", "single", "gelu_new"); }
TEST(FamilyTwin, DistilBertSingleLabel) { check_family("distilbert", "single", "gelu"); }
TEST(FamilyTwin, DistilBertRegressionRelu) { check_family("distilbert", "regression", "relu"); }

TEST(FamilyTwin, RobertaArchitectureAndNames) {
  TempDir dir("family_names_roberta");
  run_family_twin(dir.str(), "roberta", "single", "gelu");
  LoadReport report;
  auto model = load_sequence_classifier(dir.str(), quiet(), &report);
  EXPECT_EQ(report.architecture, "RobertaForSequenceClassification");
  const ParameterList params = model->parameters();
  EXPECT_EQ(params.front()->name, "roberta.embeddings.word_embeddings.weight");
  EXPECT_EQ(params.back()->name, "classifier.out_proj.bias");
}

// pytorch_model.bin through the restricted reader: alone, sharded with an index, and ignored when
// model.safetensors is present (the twin writes a .bin with every value shifted by 1 next to it).
TEST(FamilyTwin, PytorchModelBinLoading) {
  TempDir dir("family_bin_distilbert");
  run_family_twin(dir.str(), "distilbert", "single", "gelu", /*with_bin=*/true);
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  const Tensor want = SafetensorsFile::open(dir / "expected.safetensors")->load("logits");
  for (const std::string& variant : {dir.str(), dir.str() + "_bin", dir.str() + "_sharded"}) {
    LoadReport report;
    auto model = load_sequence_classifier(variant, quiet(), &report);
    EXPECT_TRUE(report.missing_keys.empty()) << variant;
    EXPECT_TRUE(report.unexpected_keys.empty()) << variant;
    EXPECT_LE(max_abs_diff(model->forward(batch).logits, want), 1e-5) << variant;
  }
  std::filesystem::remove_all(dir.str() + "_bin");
  std::filesystem::remove_all(dir.str() + "_sharded");
}

// save_pretrained writes the family's layout; the twin computes the same logits from the saved directory.
TEST(FamilyTwin, SavePretrainedReadByTwin) {
  for (const std::string family : {"roberta", "electra", "distilbert"}) {
    TempDir dir("family_save_" + family);
    run_family_twin(dir.str(), family, "single", "gelu");
    auto model = load_sequence_classifier(dir.str(), quiet());
    const Batch batch = read_twin_batch(dir / "inputs.safetensors");
    const Tensor logits = model->forward(batch).logits;
    model->save_pretrained(dir / "saved");
    const auto config = load_config(dir / "saved/config.json");
    EXPECT_EQ(config.model_type, family);
    const std::string cmd = "/usr/bin/python3 " + kTwin + " logits --family " + family + " --model " +
                            (dir / "saved") + " --inputs " + (dir / "inputs.safetensors") + " --out " +
                            (dir / "twin_logits.safetensors");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    EXPECT_LE(max_abs_diff(logits, SafetensorsFile::open(dir / "twin_logits.safetensors")->load("logits")), 1e-5)
        << family;
    // And accent reloads its own save to the same logits.
    EXPECT_LE(max_abs_diff(load_sequence_classifier(dir / "saved", quiet())->forward(batch).logits, logits), 0.0);
  }
}

// A random model per family (create_sequence_classifier) runs and initialises padding rows to zero.
TEST(FamilyTwin, RandomInitialisation) {
  TempDir dir("family_init_roberta");
  run_family_twin(dir.str(), "roberta", "single", "gelu");
  const ModelConfig config = load_config(dir / "config.json");
  auto model = create_sequence_classifier(config, 7);
  for (Parameter* p : model->parameters()) {
    if (p->name.find("position_embeddings") != std::string::npos || p->name.find("word_embeddings") != std::string::npos) {
      const int64_t H = p->value.dim(1);
      double row_pad = 0.0, row_next = 0.0;
      for (int64_t j = 0; j < H; ++j) row_pad += std::fabs(p->value.f32()[1 * H + j]), row_next += std::fabs(p->value.f32()[2 * H + j]);
      EXPECT_EQ(row_pad, 0.0) << p->name << ": padding row (pad_token_id 1) must be zero";
      EXPECT_GT(row_next, 0.0) << p->name;
    }
  }
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  EXPECT_EQ(model->forward(batch).logits.numel(), batch.B * 3);
}
