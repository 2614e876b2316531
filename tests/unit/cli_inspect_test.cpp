// Tests for `accent inspect`: table and --json output on a model directory (parameter count checked by the
// Python safetensors oracle), a hub id resolved from the cache offline, and clear errors.
#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <random>

#include "core/fs.h"
#include "io/config.h"
#include "io/safetensors.h"
#include "test_util.h"

using namespace accent::testing;

using namespace accent;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
// A tiny BERT-shaped classifier directory, weights sharded in two files.
void write_tiny_model(const fs::path& dir) {
  ModelConfig c;
  c.model_type = "bert";
  c.architectures = {"BertForSequenceClassification"};
  c.vocab_size = 11;
  c.hidden_size = 4;
  c.num_hidden_layers = 1;
  c.num_attention_heads = 2;
  c.intermediate_size = 8;
  c.max_position_embeddings = 16;
  c.set_labels({"neg", "pos", "neutral"});
  save_config((dir / "config.json").string(), c);
  NamedTensors t;
  t.emplace_back("bert.embeddings.word_embeddings.weight", Tensor(DType::F32, {11, 4}));
  t.emplace_back("bert.embeddings.position_embeddings.weight", Tensor(DType::F32, {16, 4}));
  t.emplace_back("bert.encoder.layer.0.intermediate.dense.weight", Tensor(DType::BF16, {8, 4}));
  t.emplace_back("classifier.weight", Tensor(DType::F32, {3, 4}));
  t.emplace_back("classifier.bias", Tensor(DType::F32, {3}));
  save_safetensors_checkpoint(dir.string(), t, 200);
  write_file_atomic((dir / "vocab.txt").string(), "[PAD]\n");
}
}  // namespace

TEST(CliInspect, JsonAndTableOnADirectory) {
  TempDir dir;
  write_tiny_model(dir.path);
  const CmdResult r = run_command(std::string(ACCENT_CLI_PATH) + " inspect --json " + dir.path.string());
  ASSERT_EQ(r.rc, 0) << r.out;
  const json j = json::parse(r.out);
  EXPECT_EQ(j["config"]["model_type"], "bert");
  EXPECT_EQ(j["config"]["num_hidden_layers"], 1);
  EXPECT_EQ(j["config"]["hidden_size"], 4);
  EXPECT_EQ(j["config"]["num_attention_heads"], 2);
  EXPECT_EQ(j["config"]["vocab_size"], 11);
  EXPECT_EQ(j["config"]["num_labels"], 3);
  EXPECT_EQ(j["config"]["id2label"]["2"], "neutral");
  EXPECT_EQ(j["tensors"].size(), 5u);
  EXPECT_GT(j["weight_files"].size(), 1u);

  // Oracle: the Python reader's element count summed over the shards.
  int64_t oracle_params = 0;
  for (const auto& file : j["weight_files"]) {
    const CmdResult py = run_command("/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/safetensors_oracle.py read " +
                       (dir.path / file.get<std::string>()).string());
    ASSERT_EQ(py.rc, 0) << py.out;
    const json parsed = json::parse(py.out);
    for (const auto& [name, info] : parsed["tensors"].items()) {
      int64_t n = 1;
      for (const auto& d : info["shape"]) n *= d.get<int64_t>();
      oracle_params += n;
    }
  }
  EXPECT_EQ(j["parameters"].get<int64_t>(), oracle_params);
  EXPECT_EQ(oracle_params, 11 * 4 + 16 * 4 + 8 * 4 + 3 * 4 + 3);
  bool saw_bf16 = false;
  for (const auto& t : j["tensors"])
    if (t["name"] == "bert.encoder.layer.0.intermediate.dense.weight") {
      saw_bf16 = t["dtype"] == "BF16" && t["shape"] == json({8, 4});
    }
  EXPECT_TRUE(saw_bf16);

  const CmdResult table = run_command(std::string(ACCENT_CLI_PATH) + " inspect " + dir.path.string());
  ASSERT_EQ(table.rc, 0) << table.out;
  EXPECT_NE(table.out.find("parameters    " + std::to_string(oracle_params)), std::string::npos) << table.out;
  EXPECT_NE(table.out.find("classifier.bias"), std::string::npos);
  EXPECT_NE(table.out.find("[8, 4]"), std::string::npos);
  EXPECT_NE(table.out.find("0=neg 1=pos 2=neutral"), std::string::npos) << table.out;
}

TEST(CliInspect, HubIdFromTheCacheOfflineAndErrors) {
  TempDir cache, src;
  write_tiny_model(src.path);
  const std::string sha = "1111111111111111111111111111111111111111";
  const fs::path snap = cache.path / "models--org--tiny" / "snapshots" / sha;
  fs::create_directories(snap);
  for (const auto& de : fs::directory_iterator(src.path)) fs::copy_file(de.path(), snap / de.path().filename());
  fs::create_directories(cache.path / "models--org--tiny" / "refs");
  write_file_atomic((cache.path / "models--org--tiny" / "refs" / "main").string(), sha);
  const std::string env = "HF_HUB_CACHE=" + cache.path.string() + " HF_ENDPOINT=http://127.0.0.1:9 ";
  const CmdResult r = run_command(env + "HF_HUB_OFFLINE=1 " + ACCENT_CLI_PATH + " inspect --json org/tiny");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(json::parse(r.out)["path"], snap.string());
  // --offline does the same without the variable.
  EXPECT_EQ(run_command(env + ACCENT_CLI_PATH + " inspect --offline org/tiny").rc, 0);

  const CmdResult missing = run_command(env + "HF_HUB_OFFLINE=1 " + ACCENT_CLI_PATH + " inspect org/other");
  EXPECT_EQ(missing.rc, 1);
  EXPECT_NE(missing.out.find("error: org/other"), std::string::npos) << missing.out;
  EXPECT_NE(missing.out.find("not in the cache"), std::string::npos) << missing.out;
  const CmdResult bad = run_command(std::string(ACCENT_CLI_PATH) + " inspect /no/such/dir");
  EXPECT_EQ(bad.rc, 1);
  EXPECT_NE(bad.out.find("no such directory"), std::string::npos) << bad.out;
}
