// End-to-end LoRA through the CLI: `accent train --lora` writes a PEFT adapter directory whose every file, key
// name, shape and config field is checked against PEFT's layout; predict/evaluate read it on its base (the base
// checkpoint on disk is untouched); `accent merge` gives a plain model with the same predictions; the bad inputs
// of the LoRA issue are clear errors; --freeze-embeddings / --freeze-layers leave those tensors bit-identical.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "cli_test_data.h"
#include "test_util.h"
#include "core/fs.h"
#include "data/csv_writer.h"
#include "io/config.h"
#include "io/safetensors.h"

using namespace accent;
using namespace accent::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;


const std::string kTrainFlags = " --validation-split 0.25 --max-steps 4 --per-device-train-batch-size 16 "
                                "--learning-rate 1e-2 --max-length 32 --progress none --save-strategy no --seed 3";

// A base with weights: a few full fine-tuning steps from a random init (so the adapter has a real base to find).
std::string make_base(const TempDir& tmp, const std::string& name, int64_t hidden) {
  write_tiny_bert(tmp.path / (name + "_init"), TinyBert{hidden});
  CmdResult r = run_command(kCli + " train --model " + tmp.str(name + "_init") + " --train-file " + tmp.str("train.csv") +
                            " --output-dir " + tmp.str(name) + kTrainFlags);
  EXPECT_EQ(r.rc, 0) << r.out;
  return tmp.str(name);
}

}  // namespace

TEST(CliLora, AdapterFilesPredictEvaluateMerge) {
  TempDir tmp("accent_cli_lora_");
  write_sst2_csv(tmp.path / "train.csv", 160);
  const std::string base = make_base(tmp, "base", 32);
  const std::string base_weights = read_file(base + "/model.safetensors");
  const std::string adapter = tmp.str("adapter");
  CmdResult r = run_command(kCli + " train --model " + base + " --train-file " + tmp.str("train.csv") + " --output-dir " +
                            adapter + kTrainFlags + " --lora --lora-r 4 --lora-alpha 8");
  ASSERT_EQ(r.rc, 0) << r.out;

  // adapter_config.json: every field PEFT writes for SEQ_CLS LoRA.
  const json cfg = json::parse(read_file(adapter + "/adapter_config.json"));
  EXPECT_EQ(cfg["peft_type"], "LORA");
  EXPECT_EQ(cfg["task_type"], "SEQ_CLS");
  EXPECT_EQ(cfg["r"], 4);
  EXPECT_EQ(cfg["lora_alpha"], 8.0);
  EXPECT_EQ(cfg["lora_dropout"], 0.0);
  EXPECT_EQ(cfg["target_modules"], json({"query", "value"}));
  EXPECT_EQ(cfg["bias"], "none");
  EXPECT_EQ(cfg["modules_to_save"], json({"classifier", "score"}));
  EXPECT_EQ(cfg["base_model_name_or_path"], fs::absolute(base).lexically_normal().string());
  EXPECT_EQ(cfg["fan_in_fan_out"], false);
  EXPECT_EQ(cfg["inference_mode"], true);
  EXPECT_EQ(cfg["use_rslora"], false);
  EXPECT_EQ(cfg["init_lora_weights"], true);

  // adapter_model.safetensors: PEFT key names and shapes, format pt, nothing else.
  auto file = SafetensorsFile::open(adapter + "/adapter_model.safetensors");
  EXPECT_EQ(file->metadata().at("format"), "pt");
  std::map<std::string, Shape> want;
  for (int l = 0; l < 2; ++l)
    for (const std::string m : {"query", "value"}) {
      const std::string p = "base_model.model.bert.encoder.layer." + std::to_string(l) + ".attention.self." + m;
      want[p + ".lora_A.weight"] = {4, 32};
      want[p + ".lora_B.weight"] = {32, 4};
    }
  want["base_model.model.classifier.weight"] = {2, 32};
  want["base_model.model.classifier.bias"] = {2};
  std::map<std::string, Shape> got;
  for (const auto& n : file->names()) got[n] = file->entry(n).shape;
  EXPECT_EQ(got, want);
  // Tokenizer next to it; no full model.
  EXPECT_TRUE(fs::exists(adapter + "/tokenizer.json") || fs::exists(adapter + "/vocab.txt"));
  EXPECT_FALSE(fs::exists(adapter + "/model.safetensors"));

  // predict / evaluate on the adapter; merge; the merged model predicts the same scores.
  CmdResult p = run_command(kCli + " predict --model " + adapter + " --top-k all 'a gripping, lovely film' 'dull and tired'", false);
  ASSERT_EQ(p.rc, 0) << p.out;
  CmdResult e = run_command(kCli + " evaluate --model " + adapter + " --data " + tmp.str("train.csv") + " --max-length 32", false);
  ASSERT_EQ(e.rc, 0) << e.out;
  EXPECT_TRUE(json::parse(e.out).contains("eval_accuracy"));
  CmdResult m = run_command(kCli + " merge --adapter " + adapter + " --output-dir " + tmp.str("merged"));
  ASSERT_EQ(m.rc, 0) << m.out;
  EXPECT_TRUE(fs::exists(tmp.str("merged") + "/model.safetensors"));
  EXPECT_TRUE(fs::exists(tmp.str("merged") + "/config.json"));
  CmdResult pm = run_command(kCli + " predict --model " + tmp.str("merged") + " --top-k all 'a gripping, lovely film' 'dull and tired'", false);
  ASSERT_EQ(pm.rc, 0) << pm.out;
  const auto a = scores_of(p.out), b = scores_of(pm.out);
  ASSERT_EQ(a.size(), 4u) << p.out;
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
  // Nothing wrote to the base checkpoint.
  EXPECT_EQ(read_file(base + "/model.safetensors"), base_weights);

  // A base of another size is a clear error naming the tensor.
  const std::string other = make_base(tmp, "other", 48);
  CmdResult bad = run_command(kCli + " predict --model " + adapter + " --base-model " + other + " 'text'");
  EXPECT_NE(bad.rc, 0);
  EXPECT_NE(bad.out.find("lora_A.weight has shape [4, 32]"), std::string::npos) << bad.out;
  EXPECT_NE(bad.out.find("another size"), std::string::npos) << bad.out;
}

TEST(CliLora, BadOptionsAndFreezing) {
  TempDir tmp("accent_cli_lora_bad_");
  write_sst2_csv(tmp.path / "train.csv", 160);
  const std::string base = make_base(tmp, "base", 32);
  const std::string cmd = kCli + " train --model " + base + " --train-file " + tmp.str("train.csv") + " --output-dir " +
                          tmp.str("x") + kTrainFlags;
  CmdResult r0 = run_command(cmd + " --lora --lora-r 0");
  EXPECT_NE(r0.rc, 0);
  EXPECT_NE(r0.out.find("rank r must be an integer in [1, 65536], got 0"), std::string::npos) << r0.out;
  CmdResult a0 = run_command(cmd + " --lora --lora-alpha 0");
  EXPECT_NE(a0.rc, 0);
  EXPECT_NE(a0.out.find("lora_alpha must be positive"), std::string::npos) << a0.out;
  CmdResult t = run_command(cmd + " --lora --lora-target-modules attention_q");
  EXPECT_NE(t.rc, 0);
  EXPECT_NE(t.out.find("attention_q not found in the model; valid names: dense, key, query, value, all-linear"),
            std::string::npos) << t.out;

  // Full fine-tuning with the embeddings and layer 0 frozen: exactly those tensors keep their bytes.
  CmdResult f = run_command(kCli + " train --model " + base + " --train-file " + tmp.str("train.csv") + " --output-dir " +
                            tmp.str("frozen") + kTrainFlags + " --freeze-embeddings --freeze-layers 1");
  ASSERT_EQ(f.rc, 0) << f.out;
  auto before = SafetensorsFile::open(base + "/model.safetensors");
  auto after = SafetensorsFile::open(tmp.str("frozen") + "/model.safetensors");
  int frozen = 0, trained = 0;
  for (const std::string& n : before->names()) {
    const Tensor x = before->load(n), y = after->load(n);
    const bool same = std::memcmp(x.data(), y.data(), x.nbytes()) == 0;
    const bool should_freeze = n.find("embeddings.") != std::string::npos || n.find("encoder.layer.0.") != std::string::npos;
    if (should_freeze) {
      EXPECT_TRUE(same) << n << " should be frozen";
      ++frozen;
    } else if (n.find("encoder.layer.1.") != std::string::npos || n.rfind("classifier.", 0) == 0) {
      EXPECT_FALSE(same) << n << " should have trained";
      ++trained;
    }
  }
  EXPECT_EQ(frozen, 5 + 16);
  EXPECT_EQ(trained, 16 + 2);
}
