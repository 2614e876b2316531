// End-to-end tests of `accent train` → `evaluate` → `predict` on real text (SST-2 rows from tests/data), the saved
// directory checked file by file and against the PyTorch twin (tests/reference/bert_twin.py), and the bad-input
// errors of issue "Fine-tune BERT…" (one-class labels, --max-length above the positions, a missing column).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_test_data.h"
#include "test_util.h"
#include "core/fs.h"
#include "data/csv_writer.h"
#include "io/config.h"
#include "io/safetensors.h"
#include "text/tokenizer.h"

using namespace accent;
using namespace accent::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;


}  // namespace

TEST(CliFinetune, TrainEvaluatePredictRoundTrip) {
  TempDir tmp("accent_cli_finetune_");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 400);
  const std::string out_dir = tmp.str("out");
  CmdResult r = run_command(kCli + " train --model " + tmp.str("base") + " --train-file " + tmp.str("train.csv") +
                            " --output-dir " + out_dir + " --validation-split 0.2 --max-steps 12 " +
                            "--per-device-train-batch-size 16 --learning-rate 1e-3 --max-length 48 " +
                            "--progress none --json --seed 7");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("initialising every parameter randomly"), std::string::npos) << "random init must be said";
  json metrics = last_json_line(r.out);
  ASSERT_TRUE(metrics.contains("eval_accuracy")) << r.out;
  EXPECT_EQ(metrics["eval_samples"].is_null(), true);

  // save_pretrained layout: model, config, tokenizer, training args, metrics, log history.
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "vocab.txt", "tokenizer_config.json",
                        "special_tokens_map.json", "training_args.json", "eval_results.json", "all_results.json",
                        "trainer_state.json", "validation.csv"})
    EXPECT_TRUE(fs::exists(fs::path(out_dir) / f)) << f;
  json config = json::parse(read_file(out_dir + "/config.json"));
  EXPECT_EQ(config["architectures"], json::array({"BertForSequenceClassification"}));
  EXPECT_EQ(config["id2label"], json({{"0", "negative"}, {"1", "positive"}}));
  EXPECT_EQ(config["label2id"], json({{"negative", 0}, {"positive", 1}}));
  EXPECT_EQ(config["problem_type"], "single_label_classification");
  auto weights = SafetensorsFile::open(out_dir + "/model.safetensors");
  EXPECT_EQ(weights->metadata().at("format"), "pt");
  EXPECT_TRUE(weights->contains("bert.embeddings.word_embeddings.weight"));
  EXPECT_EQ(weights->entry("classifier.weight").shape, (Shape{2, 32}));

  // evaluate on the held-out split gives the trainer's final validation accuracy.
  r = run_command(kCli + " evaluate --model " + out_dir + " --data " + out_dir + "/validation.csv --max-length 48", false);
  ASSERT_EQ(r.rc, 0) << r.out;
  json eval = json::parse(r.out);
  EXPECT_NEAR(eval["eval_accuracy"].get<double>(), metrics["eval_accuracy"].get<double>(), 1e-12);
  EXPECT_NEAR(eval["eval_loss"].get<double>(), metrics["eval_loss"].get<double>(), 1e-5);

  // predict: pipeline JSON shapes.
  const std::vector<std::string> texts = {"a gorgeous , witty , seductive movie .", "the plot is nothing but boilerplate clichés"};
  r = run_command(kCli + " predict --model " + out_dir + " " + shell_quote(texts[0]) + " " + shell_quote(texts[1]), false);
  ASSERT_EQ(r.rc, 0) << r.out;
  std::istringstream lines(r.out);
  std::string line;
  int n = 0;
  while (std::getline(lines, line)) {
    json j = json::parse(line);
    ASSERT_TRUE(j.is_array() && j.size() == 1) << line;
    EXPECT_TRUE(j[0]["label"] == "negative" || j[0]["label"] == "positive");
    EXPECT_GE(j[0]["score"].get<double>(), 0.5);
    ++n;
  }
  EXPECT_EQ(n, 2);

  // Raw logits (--function-to-apply none, all labels) against the PyTorch twin reading the saved directory.
  const std::string inputs = tmp.str("inputs.txt");
  write_file_atomic(inputs, texts[0] + "\n" + texts[1] + "\n");
  // Raw logits in fp32 (compared with the fp32 twin at 1e-5) and in bf16 mixed precision (the default on CPUs
  // with AMX/AVX512-BF16; compared with the same twin at kBf16LogitTolerance, relative to max|logit|).
  auto predict_logits = [&](const std::string& precision, const std::string& env = "") {
    CmdResult p = run_command(env + kCli + " predict --model " + out_dir + " --input " + inputs +
                                  " --top-k all --function-to-apply none --precision " + precision, false);
    EXPECT_EQ(p.rc, 0) << p.out;
    std::vector<std::array<double, 2>> rows;
    std::istringstream lines(p.out);
    std::string l;
    while (std::getline(lines, l)) {
      json j = json::parse(l);
      std::array<double, 2> row{};
      for (const auto& e : j) row[e["label"] == "negative" ? 0 : 1] = e["score"].get<double>();
      rows.push_back(row);
    }
    return rows;
  };
  const std::vector<std::array<double, 2>> ours = predict_logits("fp32"), ours_bf16 = predict_logits("bf16");
  ASSERT_EQ(ours.size(), 2u);
  ASSERT_EQ(ours_bf16.size(), 2u);
  // ACCENT_PRECISION=fp32 forces the fp32 path (what a CPU without bf16 units runs), whatever the flag says.
  EXPECT_EQ(predict_logits("bf16", "ACCENT_PRECISION=fp32 "), ours);
  Tokenizer tok = Tokenizer::from_pretrained(out_dir);
  auto enc = tok.encode_batch({{texts[0], std::nullopt}, {texts[1], std::nullopt}}, {.padding = PaddingStrategy::Longest});
  const int64_t B = 2, T = static_cast<int64_t>(enc[0].ids.size());
  Tensor ids(DType::I64, {B, T}), types(DType::I64, {B, T}), mask(DType::I64, {B, T});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      ids.data_as<int64_t>()[b * T + t] = enc[b].ids[t];
      types.data_as<int64_t>()[b * T + t] = enc[b].type_ids[t];
      mask.data_as<int64_t>()[b * T + t] = enc[b].attention_mask[t];
    }
  save_safetensors(tmp.str("inputs.safetensors"), {{"input_ids", ids}, {"token_type_ids", types}, {"attention_mask", mask}});
  r = run_command("/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/bert_twin.py logits --model " +
                  out_dir + " --inputs " + tmp.str("inputs.safetensors") + " --out " + tmp.str("twin.safetensors"));
  ASSERT_EQ(r.rc, 0) << r.out;
  Tensor twin = SafetensorsFile::open(tmp.str("twin.safetensors"))->load("logits");
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < 2; ++c) EXPECT_NEAR(ours[b][c], twin.f32()[b * 2 + c], 1e-5) << "row " << b << " label " << c;
  constexpr double kBf16LogitTolerance = 2e-2;
  double max_logit = 1e-6;
  for (int64_t i = 0; i < B * 2; ++i) max_logit = std::max(max_logit, std::fabs(static_cast<double>(twin.f32()[i])));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < 2; ++c)
      EXPECT_NEAR(ours_bf16[b][c], twin.f32()[b * 2 + c], kBf16LogitTolerance * max_logit) << "bf16 row " << b << " label " << c;

  // Fine-tuning the saved model again keeps its labels and loads every weight (no new head).
  r = run_command(kCli + " train --model " + out_dir + " --train-file " + tmp.str("train.csv") + " --output-dir " +
                  tmp.str("out2") + " --validation-split 0 --max-steps 2 --per-device-train-batch-size 8 --max-length 48 --progress none");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(r.out.find("newly initialized"), std::string::npos) << r.out;
  EXPECT_EQ(json::parse(read_file(tmp.str("out2/config.json")))["id2label"], config["id2label"]);
}

TEST(CliFinetune, BadInputGivesClearErrors) {
  TempDir tmp("accent_cli_finetune_err_");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "one_class.csv", 50, true);
  write_sst2_csv(tmp.path / "train.csv", 50);
  const std::string base = kCli + " train --model " + tmp.str("base") + " --output-dir " + tmp.str("out") + " --progress none --max-length 48";

  CmdResult r = run_command(base + " --train-file " + tmp.str("one_class.csv"));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("1 class ('positive')"), std::string::npos) << r.out;

  r = run_command(kCli + " train --model " + tmp.str("base") + " --output-dir " + tmp.str("out") +
                  " --train-file " + tmp.str("train.csv") + " --max-length 1000");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("max_position_embeddings (64)"), std::string::npos) << r.out;

  r = run_command(base + " --train-file " + tmp.str("train.csv") + " --label-column sentiment");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("sentiment"), std::string::npos) << r.out;

  r = run_command(kCli + " train --model " + tmp.str("nowhere") + " --offline --train-file " + tmp.str("train.csv") +
                  " --output-dir " + tmp.str("out"));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("nowhere"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp.path / "out" / "model.safetensors"));
}

// A full disk during save: simulated with RLIMIT_FSIZE (`ulimit -f`, SIGXFSZ ignored so writes fail with EFBIG).
// The run must fail with a clear message, leave no half-written file or checkpoint, and keep what was saved before.
TEST(CliFinetune, FullDiskDuringSaveLosesNothing) {
  TempDir tmp("accent_cli_finetune_disk_");
  write_tiny_bert(tmp.path / "base");
  write_sst2_csv(tmp.path / "train.csv", 64);
  const std::string out_dir = tmp.str("out");
  const std::string train = kCli + " train --model " + tmp.str("base") + " --train-file " + tmp.str("train.csv") +
                            " --output-dir " + out_dir + " --validation-split 0 --max-steps 2 " +
                            "--per-device-train-batch-size 8 --max-length 32 --progress none";
  CmdResult r = run_command(train + " --save-strategy no");
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string saved = read_file(out_dir + "/model.safetensors");
  ASSERT_GT(saved.size(), 1000000u);

  // 512 KiB file-size limit: the 4 MB weights cannot be written, whether as a checkpoint or the final model.
  r = run_command("bash -c " + shell_quote("trap '' XFSZ; ulimit -f 512; exec " + train + " --seed 3 --overwrite-output-dir"));
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("error:"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(out_dir), std::string::npos) << "the message names where it failed: " << r.out;
  EXPECT_EQ(read_file(out_dir + "/model.safetensors"), saved) << "the earlier model must survive";
  for (const auto& e : fs::directory_iterator(out_dir)) {
    const std::string name = e.path().filename().string();
    EXPECT_EQ(name.find("tmp"), std::string::npos) << "left behind: " << name;
    EXPECT_FALSE(name.starts_with("checkpoint-")) << "half-written checkpoint: " << name;
  }
}
