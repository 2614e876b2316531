// LoRA and --freeze-embeddings on GPT-2 through the CLI. GPT-2's c_attn is a transformers Conv1D (weight stored
// [in, out]); PEFT wraps it with fan_in_fan_out = True: lora_A (r, in), lora_B (out, r) as for nn.Linear, and the
// merge adds (scale·B·A)ᵀ to the Conv1D weight. Checked: the adapter's keys, shapes and config; the merged c_attn
// weight equals base + (scale·B·A)ᵀ computed here from the adapter file; predict on the adapter equals predict on
// the merged model; --freeze-embeddings leaves transformer.wte / transformer.wpe bit-identical.
// The base is a small random GPT-2 written by the PyTorch twin (tests/reference/family_twin.py).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/fs.h"
#include "data/csv_writer.h"
#include "io/safetensors.h"
#include "cli_test_data.h"
#include "test_util.h"

using namespace accent;
using namespace accent::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;
const std::string kData = ACCENT_TEST_DATA_DIR;
const std::string kTwin = std::string(ACCENT_SOURCE_DIR) + "/tests/reference/family_twin.py";
const std::string kFlags = " --validation-split 0.25 --max-steps 2 --per-device-train-batch-size 8 "
                           "--learning-rate 1e-2 --max-length 32 --progress none --save-strategy no --seed 3";

std::string make_gpt2_base(const TempDir& tmp) {
  const std::string base = tmp.str("base");
  CmdResult r = run_command("/usr/bin/python3 " + kTwin + " gen --out " + base +
                            " --family gpt2 --problem single --num-labels 2 --act gelu_new --vocab 50257");
  EXPECT_EQ(r.rc, 0) << r.out;
  for (const auto& f : fs::directory_iterator(kData + "/vocab/gpt2"))
    if (f.path().filename() != "config.json") fs::copy_file(f.path(), fs::path(base) / f.path().filename());
  write_sst2_csv(tmp.path / "train.csv", 64);
  return base;
}

}  // namespace

TEST(CliLoraGpt2, AdapterKeysMergeTransposedPredictSame) {
  TempDir tmp("accent_cli_lora_gpt2_");
  const std::string base = make_gpt2_base(tmp);
  const json base_cfg = json::parse(read_file(base + "/config.json"));
  const int64_t H = base_cfg["n_embd"].get<int64_t>(), L = base_cfg["n_layer"].get<int64_t>(), r = 4;
  const std::string adapter = tmp.str("adapter");
  CmdResult t = run_command(kCli + " train --model " + base + " --train-file " + tmp.str("train.csv") +
                            " --output-dir " + adapter + kFlags + " --lora --lora-r 4 --lora-alpha 8");
  ASSERT_EQ(t.rc, 0) << t.out;

  const json cfg = json::parse(read_file(adapter + "/adapter_config.json"));
  EXPECT_EQ(cfg["target_modules"], json({"c_attn"}));
  EXPECT_EQ(cfg["fan_in_fan_out"], true);
  EXPECT_EQ(cfg["modules_to_save"], json({"classifier", "score"}));
  auto file = SafetensorsFile::open(adapter + "/adapter_model.safetensors");
  std::map<std::string, Shape> want, got;
  for (int64_t l = 0; l < L; ++l) {
    const std::string p = "base_model.model.transformer.h." + std::to_string(l) + ".attn.c_attn";
    want[p + ".lora_A.weight"] = {r, H};
    want[p + ".lora_B.weight"] = {3 * H, r};
  }
  want["base_model.model.score.weight"] = {2, H};
  for (const auto& n : file->names()) got[n] = file->entry(n).shape;
  EXPECT_EQ(got, want);

  CmdResult m = run_command(kCli + " merge --adapter " + adapter + " --output-dir " + tmp.str("merged"));
  ASSERT_EQ(m.rc, 0) << m.out;

  // Merged c_attn (in, out) = base + scale·(B·A)ᵀ, scale = alpha / r = 2.
  auto before = SafetensorsFile::open(base + "/model.safetensors");
  auto merged = SafetensorsFile::open(tmp.str("merged") + "/model.safetensors");
  for (int64_t l = 0; l < L; ++l) {
    const std::string mod = "transformer.h." + std::to_string(l) + ".attn.c_attn";
    const Tensor w0 = before->load(mod + ".weight", DType::F32), w1 = merged->load(mod + ".weight", DType::F32);
    const Tensor A = file->load("base_model.model." + mod + ".lora_A.weight", DType::F32);
    const Tensor Bm = file->load("base_model.model." + mod + ".lora_B.weight", DType::F32);
    ASSERT_EQ(w1.shape(), (Shape{H, 3 * H}));
    double max_err = 0, max_delta = 0;
    for (int64_t i = 0; i < H; ++i)
      for (int64_t o = 0; o < 3 * H; ++o) {
        double d = 0;
        for (int64_t k = 0; k < r; ++k) d += static_cast<double>(Bm.f32()[o * r + k]) * A.f32()[k * H + i];
        d *= 2.0;
        max_delta = std::max(max_delta, std::abs(d));
        max_err = std::max(max_err, std::abs(w0.f32()[i * 3 * H + o] + d - w1.f32()[i * 3 * H + o]));
      }
    EXPECT_GT(max_delta, 1e-6) << mod << ": B stayed zero, the adapter did not train";
    EXPECT_LT(max_err, 1e-6) << mod;
  }

  const std::string texts = " 'a gorgeous , witty , seductive movie .' 'tired jokes and boilerplate'";
  CmdResult p = run_command("ACCENT_PRECISION=fp32 " + kCli + " predict --model " + adapter +
                                " --top-k all --function-to-apply none" + texts, false);
  ASSERT_EQ(p.rc, 0) << p.out;
  CmdResult pm = run_command("ACCENT_PRECISION=fp32 " + kCli + " predict --model " + tmp.str("merged") +
                                 " --top-k all --function-to-apply none" + texts, false);
  ASSERT_EQ(pm.rc, 0) << pm.out;
  const auto a = scores_of(p.out), b = scores_of(pm.out);
  ASSERT_EQ(a.size(), 4u) << p.out;
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-5);
}

TEST(CliLoraGpt2, FreezeEmbeddingsKeepsWteWpe) {
  TempDir tmp("accent_cli_freeze_gpt2_");
  const std::string base = make_gpt2_base(tmp);
  CmdResult f = run_command(kCli + " train --model " + base + " --train-file " + tmp.str("train.csv") +
                            " --output-dir " + tmp.str("frozen") + kFlags + " --freeze-embeddings --freeze-layers 1");
  ASSERT_EQ(f.rc, 0) << f.out;
  auto before = SafetensorsFile::open(base + "/model.safetensors");
  auto after = SafetensorsFile::open(tmp.str("frozen") + "/model.safetensors");
  int frozen = 0, trained = 0;
  for (const std::string& n : before->names()) {
    if (!after->contains(n)) continue;
    const Tensor x = before->load(n, DType::F32), y = after->load(n, DType::F32);
    ASSERT_EQ(x.shape(), y.shape()) << n;
    const bool same = std::memcmp(x.data(), y.data(), x.nbytes()) == 0;
    if (n == "transformer.wte.weight" || n == "transformer.wpe.weight" || n.rfind("transformer.h.0.", 0) == 0) {
      EXPECT_TRUE(same) << n << " should be frozen";
      ++frozen;
    } else if (n.rfind("transformer.h.1.", 0) == 0 && n.find("attn.c_attn.weight") != std::string::npos) {
      EXPECT_FALSE(same) << n << " should have trained";
      ++trained;
    }
  }
  EXPECT_EQ(frozen, 2 + 12);
  EXPECT_EQ(trained, 1);
}
