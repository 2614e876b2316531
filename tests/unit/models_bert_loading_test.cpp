// Loading any BERT checkpoint like from_pretrained, saving like save_pretrained, random init, dropout behaviour.
// Checkpoint variants are derived from the PyTorch twin's tiny model by renaming/dropping tensors.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "io/safetensors.h"
#include "models/encoder_classifier.h"
#include "models/registry.h"
#include "models_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

std::map<std::string, Tensor> read_all(const std::string& path) {
  auto f = SafetensorsFile::open(path);
  std::map<std::string, Tensor> out;
  for (const auto& name : f->names()) out[name] = f->load(name, f->entry(name).dtype);
  return out;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

std::string replace_suffix(const std::string& s, const std::string& from, const std::string& to) {
  if (s.size() >= from.size() && s.compare(s.size() - from.size(), from.size(), from) == 0)
    return s.substr(0, s.size() - from.size()) + to;
  return s;
}

// A copy of the twin's directory with the weights rewritten by `edit` and the config by `edit_config`.
void make_variant(const std::string& src, const std::string& dst,
                  const std::function<void(std::map<std::string, Tensor>&)>& edit,
                  const std::function<void(nlohmann::json&)>& edit_config = nullptr) {
  std::filesystem::create_directories(dst);
  auto tensors = read_all(src + "/model.safetensors");
  edit(tensors);
  save_safetensors(dst + "/model.safetensors", tensors);
  nlohmann::json config = nlohmann::json::parse(read_file(src + "/config.json"));
  if (edit_config) edit_config(config);
  write_file_atomic(dst + "/config.json", config.dump(2));
}

class BertLoading : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("loading");
    run_twin(dir_->str() + "/twin", "tiny", "single");
  }
  static void TearDownTestSuite() { delete dir_; }
  static std::string twin() { return dir_->str() + "/twin"; }
  static std::string path(const std::string& name) { return dir_->str() + "/" + name; }
  static LoadOptions quiet() {
    LoadOptions o;
    o.print_warnings = false;
    return o;
  }
  static std::map<std::string, Tensor> values(SequenceClassifier& m) {
    std::map<std::string, Tensor> out;
    for (Parameter* p : m.parameters()) out[p->name] = p->value;
    return out;
  }
  static TempDir* dir_;
};
TempDir* BertLoading::dir_ = nullptr;

}  // namespace

TEST_F(BertLoading, PretrainingCheckpointWithLegacyNamesAndPretrainingHeads) {
  // A 2019-style BertForPreTraining file: LayerNorm.gamma/beta, cls.* heads, the position_ids buffer, no classifier.
  make_variant(twin(), path("pretraining"), [](std::map<std::string, Tensor>& t) {
    std::map<std::string, Tensor> out;
    for (auto& [name, value] : t) {
      if (starts_with(name, "classifier.")) continue;
      std::string n = replace_suffix(replace_suffix(name, "LayerNorm.weight", "LayerNorm.gamma"), "LayerNorm.bias",
                                     "LayerNorm.beta");
      out[n] = value;
    }
    out["cls.predictions.bias"] = Tensor(DType::F32, {1000});
    out["cls.seq_relationship.weight"] = Tensor(DType::F32, {2, 64});
    out["bert.embeddings.position_ids"] = Tensor(DType::I64, {1, 64});
    t = out;
  }, [](nlohmann::json& c) { c["architectures"] = {"BertForPreTraining"}; });
  LoadOptions o = quiet();
  o.num_labels = 5;
  LoadReport r;
  auto model = load_sequence_classifier(path("pretraining"), o, &r);
  EXPECT_EQ(r.architecture, "BertForSequenceClassification");
  EXPECT_EQ(r.missing_keys, (std::vector<std::string>{"classifier.bias", "classifier.weight"}));
  EXPECT_EQ(r.unexpected_keys, (std::vector<std::string>{"cls.predictions.bias", "cls.seq_relationship.weight"}));
  EXPECT_EQ(r.ignored_buffers, (std::vector<std::string>{"bert.embeddings.position_ids"}));
  EXPECT_EQ(model->num_labels(), 5);
  // Every body tensor equals the original, whatever its stored name.
  auto original = read_all(twin() + "/model.safetensors");
  for (auto& [name, value] : values(*model)) {
    if (starts_with(name, "classifier.")) continue;
    ASSERT_EQ(max_abs_diff(value, original.at(name)), 0.0) << name;
  }
  // The new head: weight ~ Normal(0, 0.02), bias 0.
  Tensor w = values(*model).at("classifier.weight"), b = values(*model).at("classifier.bias");
  EXPECT_EQ(w.shape(), (Shape{5, 64}));
  double sum2 = 0.0;
  for (int64_t i = 0; i < w.numel(); ++i) sum2 += w.f32()[i] * w.f32()[i];
  EXPECT_NEAR(std::sqrt(sum2 / w.numel()), 0.02, 0.004);
  EXPECT_EQ(max_abs(b), 0.0);
  // Seeded: the same seed gives the same head, another seed another one.
  auto again = load_sequence_classifier(path("pretraining"), o);
  EXPECT_EQ(max_abs_diff(values(*again).at("classifier.weight"), w), 0.0);
  o.seed = 7;
  auto other = load_sequence_classifier(path("pretraining"), o);
  EXPECT_GT(max_abs_diff(values(*other).at("classifier.weight"), w), 0.0);
}

TEST_F(BertLoading, BaseModelCheckpointWithoutPrefixGivesTheSameLogits) {
  // BertModel.save_pretrained: keys without "bert."; keep the classifier (as "classifier.*") to compare logits.
  make_variant(twin(), path("noprefix"), [](std::map<std::string, Tensor>& t) {
    std::map<std::string, Tensor> out;
    for (auto& [name, value] : t) out[starts_with(name, "bert.") ? name.substr(5) : name] = value;
    t = out;
  });
  LoadReport r;
  auto model = load_sequence_classifier(path("noprefix"), quiet(), &r);
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_TRUE(r.unexpected_keys.empty());
  auto reference = load_sequence_classifier(twin(), quiet());
  const Batch batch = read_twin_batch(twin() + "/inputs.safetensors");
  EXPECT_EQ(max_abs_diff(model->forward(batch).logits, reference->forward(batch).logits), 0.0);
}

TEST_F(BertLoading, HeadWithOtherNumLabels) {
  LoadOptions o = quiet();
  o.num_labels = 7;
  try {
    load_sequence_classifier(twin(), o);
    FAIL() << "expected a size-mismatch error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("classifier.weight"), std::string::npos) << m;
    EXPECT_NE(m.find("[3, 64]"), std::string::npos) << m;
    EXPECT_NE(m.find("[7, 64]"), std::string::npos) << m;
  }
  o.ignore_mismatched_sizes = true;
  LoadReport r;
  auto model = load_sequence_classifier(twin(), o, &r);
  ASSERT_EQ(r.mismatched_keys.size(), 2u);
  EXPECT_EQ(r.mismatched_keys[0].name, "classifier.bias");
  EXPECT_EQ(r.mismatched_keys[1].checkpoint_shape, (Shape{3, 64}));
  EXPECT_EQ(r.mismatched_keys[1].model_shape, (Shape{7, 64}));
  EXPECT_TRUE(r.missing_keys.empty());
  EXPECT_EQ(model->num_labels(), 7);
}

TEST_F(BertLoading, VocabularyMismatchIsAClearError) {
  make_variant(twin(), path("vocab"), [](std::map<std::string, Tensor>&) {},
               [](nlohmann::json& c) { c["vocab_size"] = 1200; });
  try {
    load_sequence_classifier(path("vocab"), quiet());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_NE(m.find("word_embeddings"), std::string::npos) << m;
    EXPECT_NE(m.find("vocab_size 1200"), std::string::npos) << m;
  }
}

TEST_F(BertLoading, UnknownFamiliesAreRefused) {
  make_variant(twin(), path("t5"), [](std::map<std::string, Tensor>&) {},
               [](nlohmann::json& c) { c["model_type"] = "t5"; });
  try {
    load_sequence_classifier(path("t5"), quiet());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("not supported"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("roberta"), std::string::npos) << "lists the supported families";
  }
}

TEST_F(BertLoading, SavePretrainedRoundTripAndShardedLoad) {
  auto model = load_sequence_classifier(twin(), quiet());
  const Batch batch = read_twin_batch(twin() + "/inputs.safetensors");
  const Tensor logits = model->forward(batch).logits;
  const std::string out = path("saved");
  save_pretrained(*model, out);
  // Only the two files; no temporary left behind.
  std::vector<std::string> files;
  for (auto& e : std::filesystem::directory_iterator(out)) files.push_back(e.path().filename().string());
  std::sort(files.begin(), files.end());
  EXPECT_EQ(files, (std::vector<std::string>{"config.json", "model.safetensors"}));
  const nlohmann::json config = nlohmann::json::parse(read_file(out + "/config.json"));
  EXPECT_EQ(config["architectures"], nlohmann::json::array({"BertForSequenceClassification"}));
  EXPECT_EQ(config["problem_type"], "single_label_classification");
  EXPECT_EQ(config["model_type"], "bert");
  auto names = SafetensorsFile::open(out + "/model.safetensors")->names();
  EXPECT_EQ(names.size(), model->parameters().size());
  auto reloaded = load_sequence_classifier(out, quiet());
  EXPECT_EQ(max_abs_diff(reloaded->forward(batch).logits, logits), 0.0);
  // The PyTorch twin reads what accent saved and computes the same logits.
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                          "/tests/reference/bert_twin.py logits --model " + out + " --inputs " + twin() +
                          "/inputs.safetensors --out " + path("torch_logits.safetensors");
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_LE(max_abs_diff(SafetensorsFile::open(path("torch_logits.safetensors"))->load("logits"), logits), 1e-5);

  // Sharded: several model-0000k-of-0000n files + index.
  const std::string sharded = path("sharded");
  std::filesystem::create_directories(sharded);
  std::filesystem::copy_file(out + "/config.json", sharded + "/config.json");
  NamedTensors tensors;
  for (Parameter* p : model->parameters()) tensors.emplace_back(p->name, p->value);
  const auto written = save_safetensors_checkpoint(sharded, tensors, /*max_shard_size=*/200'000);
  ASSERT_GT(written.size(), 2u);
  auto from_shards = load_sequence_classifier(sharded, quiet());
  EXPECT_EQ(max_abs_diff(from_shards->forward(batch).logits, logits), 0.0);
}

TEST_F(BertLoading, RandomInitLikeHfInitWeights) {
  ModelConfig c = load_config(twin() + "/config.json");
  auto a = create_sequence_classifier(c, 1), b = create_sequence_classifier(c, 1), d = create_sequence_classifier(c, 2);
  auto va = values(*a), vb = values(*b), vd = values(*d);
  for (auto& [name, t] : va) EXPECT_EQ(max_abs_diff(t, vb.at(name)), 0.0) << name;  // deterministic in the seed
  EXPECT_GT(max_abs_diff(va.at("bert.encoder.layer.0.attention.self.query.weight"),
                         vd.at("bert.encoder.layer.0.attention.self.query.weight")), 0.0);
  const Tensor word = va.at("bert.embeddings.word_embeddings.weight");
  for (int64_t i = 0; i < 64; ++i) ASSERT_EQ(word.f32()[i], 0.0f);  // padding row (pad_token_id 0) zeroed
  EXPECT_EQ(va.at("bert.embeddings.LayerNorm.weight").f32()[3], 1.0f);
  EXPECT_EQ(max_abs(va.at("bert.pooler.dense.bias")), 0.0);
  const Tensor q = va.at("bert.encoder.layer.1.attention.self.query.weight");
  double s1 = 0.0, s2 = 0.0;
  for (int64_t i = 0; i < q.numel(); ++i) s1 += q.f32()[i], s2 += q.f32()[i] * q.f32()[i];
  EXPECT_NEAR(s1 / q.numel(), 0.0, 0.002);
  EXPECT_NEAR(std::sqrt(s2 / q.numel()), 0.02, 0.001);
  // Weight decay flags as HF's Trainer: no decay for biases and LayerNorm weights.
  for (Parameter* p : a->parameters()) {
    const bool no_decay = p->name.find("LayerNorm") != std::string::npos || p->name.find(".bias") != std::string::npos;
    EXPECT_EQ(p->decay, !no_decay) << p->name;
  }
}

TEST_F(BertLoading, DropoutInTrainingIsReproducibleAndOffInInference) {
  ModelConfig c = load_config(twin() + "/config.json");
  c.hidden_dropout_prob = 0.1;
  c.attention_probs_dropout_prob = 0.1;
  auto model = create_sequence_classifier(c, 3);
  const Batch batch = read_twin_batch(twin() + "/inputs.safetensors");
  const Tensor eval1 = model->forward(batch).logits, eval2 = model->forward(batch).logits;
  EXPECT_EQ(max_abs_diff(eval1, eval2), 0.0);
  Rng r1(11), r2(11);
  const ForwardResult t1 = model->forward_backward(batch, r1);
  const ForwardResult t2 = model->forward_backward(batch, r2);
  EXPECT_EQ(max_abs_diff(t1.logits, t2.logits), 0.0);  // same seed and counter → same masks
  EXPECT_EQ(r1.counter(), r2.counter());
  EXPECT_GT(r1.counter(), 0u);
  EXPECT_GT(max_abs_diff(t1.logits, eval1), 0.0);      // dropout active in training
  const ForwardResult t3 = model->forward_backward(batch, r1);  // the stream moved on: other masks
  EXPECT_GT(max_abs_diff(t3.logits, t1.logits), 0.0);
}

TEST_F(BertLoading, ProblemTypeIsInferredAndStored) {
  ModelConfig c = load_config(twin() + "/config.json");
  c.problem_type.reset();
  auto model = create_sequence_classifier(c, 3);
  Batch batch = read_twin_batch(twin() + "/inputs.safetensors");
  batch.class_labels.clear();
  batch.float_labels.assign(batch.B * 3, 1.0f);  // float labels, 3 labels → multi-label
  EXPECT_TRUE(model->forward(batch).has_loss);
  EXPECT_EQ(model->config()->problem_type.value(), "multi_label_classification");
  EXPECT_EQ(model->problem_type(), ProblemType::MultiLabel);
  Batch no_labels = batch;
  no_labels.float_labels.clear();
  EXPECT_FALSE(model->forward(no_labels).has_loss);
  Rng rng(1);
  EXPECT_THROW(model->forward_backward(no_labels, rng), Error);
}
