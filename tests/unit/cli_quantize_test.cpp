// Dynamic int8 inference through the CLI: `accent quantize` writes the documented int8 layout; predict on that
// directory answers exactly as `--precision int8` on the fp32 model (the same quantization, saved or done at load);
// both stay close to fp32; evaluate takes --precision int8; training refuses int8 (the flag and an int8 model).
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_test_data.h"
#include "test_util.h"
#include "core/fs.h"
#include "io/safetensors.h"

using namespace accent;
using namespace accent::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;

// Every logit of `accent predict --top-k all --function-to-apply none` output, per input in label order.
std::vector<std::vector<double>> logits_of(const std::string& output) {
  std::vector<std::vector<double>> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] != '[') continue;
    std::map<std::string, double> by_label;
    for (const auto& s : json::parse(line)) by_label[s["label"].get<std::string>()] = s["score"].get<double>();
    std::vector<double> row;
    for (const auto& [label, score] : by_label) row.push_back(score);
    out.push_back(row);
  }
  return out;
}

}  // namespace

TEST(CliQuantize, SavedInt8EqualsInt8AtLoadAndStaysNearFp32) {
  TempDir tmp("cli_quantize");
  write_sst2_csv(tmp.path / "train.csv", 160);
  write_tiny_bert(tmp.path / "init", TinyBert{64});
  const std::string model = (tmp.path / "model").string(), q = (tmp.path / "q").string();
  CmdResult r = run_command(kCli + " train --model " + (tmp.path / "init").string() + " --train-file " +
                            (tmp.path / "train.csv").string() + " --output-dir " + model +
                            " --max-steps 6 --per-device-train-batch-size 16 --learning-rate 1e-3 --max-length 32 "
                            "--progress none --save-strategy no --seed 3");
  ASSERT_EQ(r.rc, 0) << r.out;

  r = run_command(kCli + " quantize --model " + model + " --output-dir " + q, false);
  ASSERT_EQ(r.rc, 0) << r.out;
  const json summary = json::parse(r.out);
  EXPECT_EQ(summary["int8_modules"], 12);  // 2 layers × (query, key, value, output, FFN in, FFN out)
  EXPECT_LT(summary["int8_weights_bytes"].get<double>(), summary["weights_bytes"].get<double>());
  const json config = json::parse(read_file(q + "/config.json"));
  EXPECT_EQ(config["quantization_config"]["quant_method"], "accent_int8_dynamic");
  auto file = SafetensorsFile::open(q + "/model.safetensors");
  EXPECT_EQ(file->entry("bert.encoder.layer.0.intermediate.dense.weight").dtype, DType::I8);
  EXPECT_EQ(file->entry("bert.encoder.layer.0.intermediate.dense.weight_scale").dtype, DType::F32);
  EXPECT_EQ(file->entry("classifier.weight").dtype, DType::F32) << "the head stays full precision";
  EXPECT_TRUE(fs::exists(q + "/tokenizer.json") || fs::exists(q + "/vocab.txt"));

  std::string texts;
  for (const char* t : {"a gorgeous, witty, seductive movie.", "the plot is nothing but boilerplate clichés",
                        "it's a charming and often affecting journey.", "unflinchingly bleak and desperate",
                        "the acting, costumes, music, cinematography and sound are all astounding"})
    texts += " " + shell_quote(t);
  const std::string flags = " --top-k all --function-to-apply none --threads 1";
  const std::string saved = run_capture(kCli + " predict --model " + q + flags + texts);
  const std::string at_load = run_capture(kCli + " predict --model " + model + flags + " --precision int8" + texts);
  const std::string fp32 = run_capture(kCli + " predict --model " + model + flags + " --precision fp32" + texts);
  EXPECT_EQ(saved, at_load) << "the saved int8 model differs from quantizing at load";
  const auto a = logits_of(at_load), b = logits_of(fp32);
  ASSERT_EQ(a.size(), 5u);
  ASSERT_EQ(b.size(), 5u);
  double diff = 0, scale = 1e-12;
  for (size_t i = 0; i < a.size(); ++i)
    for (size_t c = 0; c < a[i].size(); ++c) {
      diff = std::max(diff, std::fabs(a[i][c] - b[i][c]));
      scale = std::max(scale, std::fabs(b[i][c]));
    }
  EXPECT_LE(diff / scale, 0.1) << "int8 logits far from fp32";
  EXPECT_GT(diff, 0.0) << "int8 changed nothing: the layers did not run int8";

  r = run_command(kCli + " evaluate --model " + model + " --data " + (tmp.path / "train.csv").string() +
                  " --max-length 32 --precision int8 --threads 1", false);
  ASSERT_EQ(r.rc, 0) << r.out;
  const json metrics = json::parse(r.out);  // stdout: one pretty-printed JSON object
  EXPECT_TRUE(metrics.contains("eval_accuracy") || metrics.contains("accuracy")) << r.out;

  // Training: the flag and an int8 model are refused with a reason.
  r = run_command(kCli + " train --model " + model + " --train-file " + (tmp.path / "train.csv").string() +
                  " --output-dir " + (tmp.path / "t1").string() + " --max-steps 1 --max-length 32 --precision int8");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("--precision int8 is for inference"), std::string::npos) << r.out;
  r = run_command(kCli + " train --model " + q + " --train-file " + (tmp.path / "train.csv").string() +
                  " --output-dir " + (tmp.path / "t2").string() + " --max-steps 1 --max-length 32");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("for inference only"), std::string::npos) << r.out;
  // The int8 model may not overwrite its source.
  r = run_command(kCli + " quantize --model " + model + " --output-dir " + model);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("must not overwrite"), std::string::npos) << r.out;
}
