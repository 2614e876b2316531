// `accent export` against ONNX Runtime: for every family accent trains (BERT, RoBERTa, ELECTRA, DistilBERT, GPT-2)
// and for a LoRA adapter (merged on export), the exported onnx/model.onnx is run by ONNX Runtime (npm
// onnxruntime-node, tests/oracle/onnx_runtime_oracle.js) on real SST-2 texts of several lengths, in batches of
// 1, 3 and 8 rows padded to their longest, and every row's logits must be within 1e-4 of what
// `accent predict --top-k all --function-to-apply none` answers for that text in fp32. The graph's inputs and
// output must be the ones optimum writes, and the export must refuse what it cannot do.
//
// Models: BERT is a tiny BERT fine-tuned a few steps by `accent train` (bert-base-uncased's vocabulary); the other
// families are the PyTorch twin's random models (tests/reference/family_twin.py gen: weights 0.05·N(0,1),
// LayerNorm weights near 1) with the family's real tokenizer files, as cli_families_test does.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_test_data.h"
#include "core/fs.h"
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
const std::string kOracle = std::string(ACCENT_SOURCE_DIR) + "/tests/oracle/onnx_runtime_oracle.js";
const std::string kNodeModules = std::string(ACCENT_NODE_DIR) + "/node_modules";
constexpr double kTolerance = 1e-4;
constexpr double kFp16Tolerance = 1e-3;  // --dtype fp16 (weights rounded to half precision; measured 2.1e-5)

// SST-2 texts whose encodings have at most `max_tokens` tokens, spread over the lengths found: the shortest first,
// then every few lengths up to the longest (so the batches below mix short and long rows).
std::vector<std::string> sst2_texts(const Tokenizer& tok, size_t count, size_t max_tokens) {
  std::ifstream in(kData + "/sentiment/sst2/train.tsv");
  std::string line;
  std::getline(in, line);  // header
  std::vector<std::pair<size_t, std::string>> by_length;
  for (int i = 0; i < 3000 && std::getline(in, line); ++i) {
    const std::string text = line.substr(0, line.rfind('\t'));
    const size_t n = tok.encode(text).size();
    if (n <= max_tokens) by_length.emplace_back(n, text);
  }
  std::stable_sort(by_length.begin(), by_length.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<std::string> out;
  for (size_t i = 0; i < count && !by_length.empty(); ++i)
    out.push_back(by_length[i * (by_length.size() - 1) / std::max<size_t>(1, count - 1)].second);
  return out;
}

struct Input {
  std::string text;
  std::optional<std::string> pair;
};

struct Agreement {
  double max_abs_diff = 0.0;
  double logit_spread = 0.0;  // max − min over every logit compared (the test means something only when > 0)
  size_t rows = 0;
};

// Exports `model` (into `output_dir`, or beside it), runs ONNX Runtime on `inputs` in batches of 1, 3, 8, … and
// compares with accent predict. `expect_inputs` are the graph input names optimum would write.
Agreement check_against_predict(const std::string& model, const std::string& tokenizer_dir,
                                const std::vector<Input>& inputs, const std::vector<std::string>& expect_inputs,
                                const TempDir& tmp, const std::string& export_flags = "",
                                const std::string& output_dir = "", double tolerance = kTolerance) {
  Agreement a;
  CmdResult r = run_command(kCli + " export --model " + model + (output_dir.empty() ? "" : " --output-dir " + output_dir) +
                            export_flags);
  EXPECT_EQ(r.rc, 0) << r.out;
  if (r.rc != 0) return a;
  EXPECT_NE(r.out.find("passes ONNX's checker"), std::string::npos) << r.out;
  const std::string onnx = (output_dir.empty() ? model : output_dir) + "/onnx/model.onnx";
  EXPECT_TRUE(fs::exists(onnx)) << onnx;

  // accent predict, fp32 raw logits, one line per input, labels mapped to ids through the model's config.
  std::string lines;
  for (const auto& in : inputs) lines += in.text + (in.pair ? "\t" + *in.pair : "") + "\n";
  write_file_atomic(tmp.str("inputs.txt"), lines);
  r = run_command("ACCENT_PRECISION=fp32 " + kCli + " predict --model " + model + " --input " + tmp.str("inputs.txt") +
                      " --top-k all --function-to-apply none",
                  false);
  EXPECT_EQ(r.rc, 0) << r.out;
  if (r.rc != 0) return a;
  const std::string config_dir = output_dir.empty() ? model : output_dir;
  const json config = json::parse(read_file(fs::exists(config_dir + "/config.json") ? config_dir + "/config.json"
                                                                                     : tokenizer_dir + "/config.json"));
  std::map<std::string, size_t> label_id;
  for (const auto& [id, label] : config["id2label"].items()) label_id[label.get<std::string>()] = std::stoul(id);
  const size_t C = label_id.size();
  std::vector<std::vector<double>> predicted;
  std::istringstream out(r.out);
  std::string l;
  while (std::getline(out, l)) {
    if (l.empty() || l[0] != '[') continue;
    std::vector<double> row(C, NAN);
    for (const auto& e : json::parse(l)) row.at(label_id.at(e["label"].get<std::string>())) = e["score"].get<double>();
    predicted.push_back(row);
  }
  EXPECT_EQ(predicted.size(), inputs.size()) << r.out;
  if (predicted.size() != inputs.size()) return a;

  // The same inputs tokenized by accent's tokenizer (HF-exact, text_parity_test), right-padded per batch with the
  // model's pad_token_id, in batches of 1, 3, 8, then the rest.
  const Tokenizer tok = Tokenizer::from_pretrained(tokenizer_dir);
  const int64_t pad = config.value("pad_token_id", json(0)).is_null() ? 0 : config["pad_token_id"].get<int64_t>();
  json job = {{"model", onnx}, {"batches", json::array()}};
  std::vector<size_t> batch_sizes;
  for (size_t start = 0, k = 0; start < inputs.size(); ++k) {
    const size_t size = std::min(inputs.size() - start, k == 0 ? size_t{1} : k == 1 ? size_t{3} : size_t{8});
    json ids = json::array(), mask = json::array(), types = json::array();
    std::vector<Encoding> enc;
    size_t T = 0;
    for (size_t i = start; i < start + size; ++i) {
      enc.push_back(inputs[i].pair ? tok.encode(inputs[i].text, *inputs[i].pair) : tok.encode(inputs[i].text));
      T = std::max(T, enc.back().size());
    }
    for (const auto& e : enc) {
      json ri = json::array(), rm = json::array(), rt = json::array();
      for (size_t t = 0; t < T; ++t) {
        const bool real = t < e.size();
        ri.push_back(real ? int64_t{e.ids[t]} : pad);
        rm.push_back(real ? 1 : 0);
        rt.push_back(real && !e.type_ids.empty() ? int64_t{e.type_ids[t]} : 0);
      }
      ids.push_back(ri), mask.push_back(rm), types.push_back(rt);
    }
    job["batches"].push_back({{"input_ids", ids}, {"attention_mask", mask}, {"token_type_ids", types}});
    batch_sizes.push_back(size);
    start += size;
  }
  write_file_atomic(tmp.str("job.json"), job.dump());
  r = run_command("NODE_PATH=" + kNodeModules + " node " + kOracle + " " + tmp.str("job.json"), false);
  EXPECT_EQ(r.rc, 0) << r.out;
  if (r.rc != 0) return a;
  const json ort = json::parse(r.out);
  EXPECT_EQ(ort["input_names"], json(expect_inputs));
  EXPECT_EQ(ort["output_names"], json::array({"logits"}));

  double lo = INFINITY, hi = -INFINITY;
  size_t row = 0;
  for (size_t b = 0; b < batch_sizes.size(); ++b) {
    const json& logits = ort["batches"][b]["logits"];
    EXPECT_EQ(logits.size(), batch_sizes[b]);
    for (const auto& got : logits) {
      EXPECT_EQ(got.size(), C);
      for (size_t k = 0; k < C && k < got.size(); ++k) {
        const double want = predicted.at(row)[k], have = got[k].get<double>();
        a.max_abs_diff = std::max(a.max_abs_diff, std::abs(want - have));
        EXPECT_NEAR(have, want, tolerance) << "input " << row << " (" << inputs[row].text << ") label " << k;
        lo = std::min(lo, want), hi = std::max(hi, want);
      }
      ++row;
    }
  }
  a.rows = row;
  a.logit_spread = hi - lo;
  EXPECT_EQ(row, inputs.size());
  // Logits that barely vary would make the 1e-4 comparison meaningless: ask for a spread 100× the tolerance.
  EXPECT_GT(a.logit_spread, 100 * kTolerance) << "the test model's logits hardly differ between texts";
  return a;
}

void report(const std::string& family, const Agreement& a) {
  std::cout << "[ onnx ] " << family << ": " << a.rows << " texts, max |ORT − accent predict fp32| = " << a.max_abs_diff
            << " (logits span " << a.logit_spread << ")\n";
  ::testing::Test::RecordProperty(family + "_max_abs_diff", std::to_string(a.max_abs_diff));
}

// A random model of `family` from the PyTorch twin, with the family's real tokenizer files.
std::string twin_model(const TempDir& tmp, const std::string& family, const std::string& vocab_dir, int64_t vocab) {
  const std::string dir = tmp.str(family);
  CmdResult r = run_command("/usr/bin/python3 " + kTwin + " gen --out " + dir + " --family " + family +
                            " --problem single --num-labels 3 --seed 5 --act " + (family == "gpt2" ? "gelu_new" : "gelu") +
                            " --vocab " + std::to_string(vocab));
  EXPECT_EQ(r.rc, 0) << r.out;
  for (const auto& f : fs::directory_iterator(kData + "/vocab/" + vocab_dir))
    if (f.path().filename() != "config.json") fs::copy_file(f.path(), fs::path(dir) / f.path().filename());
  return dir;
}

std::vector<Input> single_texts(const std::string& tokenizer_dir, size_t count, size_t max_tokens) {
  std::vector<Input> out;
  for (auto& t : sst2_texts(Tokenizer::from_pretrained(tokenizer_dir), count, max_tokens)) out.push_back({t, {}});
  return out;
}

// A few large steps: a tiny BERT starts with logits near 0 (weights 0.02·N(0,1)); training spreads them.
const std::string kTrainFlags = " --validation-split 0.25 --max-steps 8 --per-device-train-batch-size 16 "
                                "--max-length 32 --progress none --save-strategy no --seed 3";

}  // namespace

TEST(CliExport, BertAndLoraAdapterMatchPredict) {
  TempDir tmp("accent_cli_export_bert");
  write_sst2_csv(tmp.path / "train.csv", 160);
  write_tiny_bert(tmp.path / "init", TinyBert{});
  const std::string bert = tmp.str("bert");
  CmdResult r = run_command(kCli + " train --model " + tmp.str("init") + " --train-file " + tmp.str("train.csv") +
                            " --output-dir " + bert + kTrainFlags + " --learning-rate 2e-2");
  ASSERT_EQ(r.rc, 0) << r.out;
  std::vector<Input> inputs = single_texts(bert, 14, 40);
  // Sentence pairs: token_type_ids 1 on the second segment.
  inputs.push_back({"a gorgeous , witty , seductive movie .", std::string("the plot is nothing but boilerplate")});
  inputs.push_back({"it 's a charming and often affecting journey .", std::string("unflinchingly bleak")});
  report("bert", check_against_predict(bert, bert, inputs, {"input_ids", "attention_mask", "token_type_ids"}, tmp));
  // --dtype fp16: the weights stored as half precision (the file about halves) and cast to fp32 in the graph, so
  // the logits move by the weights' rounding only (2^-11 relative per weight).
  const std::string half = tmp.str("bert_fp16");
  report("bert (fp16 weights)", check_against_predict(bert, bert, inputs, {"input_ids", "attention_mask", "token_type_ids"},
                                                      tmp, " --dtype fp16", half, kFp16Tolerance));
  EXPECT_LT(fs::file_size(half + "/onnx/model.onnx"), 0.6 * fs::file_size(bert + "/onnx/model.onnx"));

  // A LoRA adapter on that model: export merges it (W + scale·B·A); predict runs base + adapter unmerged.
  const std::string adapter = tmp.str("adapter");
  r = run_command(kCli + " train --model " + bert + " --train-file " + tmp.str("train.csv") + " --output-dir " + adapter +
                  kTrainFlags + " --learning-rate 5e-2 --lora --lora-r 4 --lora-alpha 8");
  ASSERT_EQ(r.rc, 0) << r.out;
  const std::string merged_onnx = tmp.str("adapter_onnx");
  report("bert+lora", check_against_predict(adapter, bert, inputs, {"input_ids", "attention_mask", "token_type_ids"},
                                            tmp, "", merged_onnx));
  // The output directory loads on its own: config.json and the tokenizer beside onnx/.
  EXPECT_TRUE(fs::exists(merged_onnx + "/config.json"));
  EXPECT_TRUE(fs::exists(merged_onnx + "/tokenizer.json") || fs::exists(merged_onnx + "/vocab.txt"));
}

TEST(CliExport, RobertaAndXlmRobertaMatchPredict) {
  TempDir tmp("accent_cli_export_roberta");
  const std::string m = twin_model(tmp, "roberta", "roberta-base", 50265);
  // RoBERTa's positions start after pad_token_id (max_position_embeddings 40 → at most 38 tokens).
  const std::vector<Input> inputs = single_texts(m, 16, 36);
  report("roberta", check_against_predict(m, m, inputs, {"input_ids", "attention_mask"}, tmp));
  // The same weights as XLM-RoBERTa (model_type xlm-roberta: XLMRobertaForSequenceClassification, same graph).
  const std::string xlmr = tmp.str("xlm-roberta");
  fs::copy(m, xlmr);
  fs::remove_all(xlmr + "/onnx");
  json config = json::parse(read_file(xlmr + "/config.json"));
  config["model_type"] = "xlm-roberta";
  config["architectures"] = json::array({"XLMRobertaForMaskedLM"});
  write_file_atomic(xlmr + "/config.json", config.dump(2));
  report("xlm-roberta", check_against_predict(xlmr, xlmr, inputs, {"input_ids", "attention_mask"}, tmp));
}

TEST(CliExport, ElectraMatchesPredict) {
  TempDir tmp("accent_cli_export_electra");
  const std::string m = twin_model(tmp, "electra", "bert-base-uncased", 30522);
  std::vector<Input> inputs = single_texts(m, 14, 40);
  inputs.push_back({"a gorgeous , witty , seductive movie .", std::string("the plot is nothing but boilerplate")});
  report("electra", check_against_predict(m, m, inputs, {"input_ids", "attention_mask", "token_type_ids"}, tmp));
}

TEST(CliExport, DistilBertMatchesPredictWithExternalData) {
  TempDir tmp("accent_cli_export_distilbert");
  const std::string m = twin_model(tmp, "distilbert", "bert-base-uncased", 30522);
  const std::vector<Input> inputs = single_texts(m, 16, 40);
  report("distilbert", check_against_predict(m, m, inputs, {"input_ids", "attention_mask"}, tmp));
  // The weights as ONNX external data (what a model over 2 GB gets): ONNX Runtime reads them from model.onnx_data.
  const std::string out = tmp.str("external");
  report("distilbert (external data)",
         check_against_predict(m, m, inputs, {"input_ids", "attention_mask"}, tmp, " --external-data", out));
  EXPECT_TRUE(fs::exists(out + "/onnx/model.onnx_data"));
  EXPECT_LT(fs::file_size(out + "/onnx/model.onnx"), 1u << 20);  // the graph only; the weights are outside
}

TEST(CliExport, Gpt2MatchesPredict) {
  TempDir tmp("accent_cli_export_gpt2");
  const std::string m = twin_model(tmp, "gpt2", "gpt2", 50257);
  // Padded with pad_token_id (EOS): the graph pools each row's last non-pad token under the causal mask.
  report("gpt2", check_against_predict(m, m, single_texts(m, 16, 40), {"input_ids", "attention_mask"}, tmp));
}

TEST(CliExport, RefusesWhatItCannotExport) {
  TempDir tmp("accent_cli_export_refuse");
  const std::string m = twin_model(tmp, "distilbert", "bert-base-uncased", 30522);
  CmdResult r = run_command(kCli + " export --model " + m + " --opset 16");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("opset 17"), std::string::npos) << r.out;
  // A config without weights: predict refuses random weights, and so does export.
  write_tiny_bert(tmp.path / "no_weights", TinyBert{});
  r = run_command(kCli + " export --model " + tmp.str("no_weights"));
  EXPECT_NE(r.rc, 0) << r.out;
  EXPECT_FALSE(fs::exists(tmp.str("no_weights") + "/onnx/model.onnx"));
  // A family without an ONNX graph says so by name.
  const std::string modernbert = twin_model(tmp, "modernbert", "roberta-base", 50265);
  r = run_command(kCli + " export --model " + modernbert);
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("not yet for \"modernbert\""), std::string::npos) << r.out;
}
