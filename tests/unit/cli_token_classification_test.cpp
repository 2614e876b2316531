// `accent train` / `accent evaluate` for token classification (run_ner.py): WNUT-17 CoNLL files (recognised as NER
// data without --task), a BERT trained from scratch that learns entities (seqeval F1 above the all-O baseline, which
// is 0), the saved BertForTokenClassification directory evaluated again with the same numbers; RoBERTa with its
// tokenizer switched to add_prefix_space (as run_ner.py does for byte-level models) on JSON Lines data.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli_test_data.h"
#include "test_util.h"

using namespace accent::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kCli = ACCENT_CLI_PATH;
const std::string kWnut = std::string(ACCENT_TEST_DATA_DIR) + "/token-classification/wnut17/";

json read_json(const fs::path& p) {
  std::ifstream is(p);
  return json::parse(is);
}

}  // namespace

TEST(CliTokenClassification, BertFromScratchLearnsWnutEntitiesAndEvaluatesTheSame) {
  TempDir dir("cli_ner_bert");
  write_tiny_bert(dir / "base", {.hidden = 128, .layers = 2, .intermediate = 512, .max_positions = 128});
  const std::string out = (dir / "out");
  const CmdResult r = run_command(kCli + " train --model " + shell_quote((dir / "base")) + " --train-file " +
                                  shell_quote(kWnut + "wnut17train.conll") + " --validation-file " +
                                  shell_quote(kWnut + "emerging.dev.conll") + " --output-dir " + shell_quote(out) +
                                  " --epochs 4 --batch-size 16 --lr 1e-3 --max-length 128 --save-strategy no");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("3394 sentences"), std::string::npos) << r.out;
  const json config = read_json(fs::path(out) / "config.json");
  EXPECT_EQ(config["architectures"], json::array({"BertForTokenClassification"}));
  // run_ner.py's label list: the sorted tags of the training file.
  const std::vector<std::string> tags = {"B-corporation", "B-creative-work", "B-group", "B-location", "B-person",
                                         "B-product", "I-corporation", "I-creative-work", "I-group", "I-location",
                                         "I-person", "I-product", "O"};
  ASSERT_EQ(config["id2label"].size(), tags.size());
  for (size_t i = 0; i < tags.size(); ++i) EXPECT_EQ(config["id2label"][std::to_string(i)], tags[i]);
  const json eval = read_json(fs::path(out) / "eval_results.json");
  for (const char* key : {"eval_loss", "eval_precision", "eval_recall", "eval_f1", "eval_accuracy"})
    EXPECT_TRUE(eval.contains(key)) << key << " " << eval.dump();
  // Predicting "O" everywhere gives entity F1 0; the model found entities.
  std::cout << "[wnut17 dev after 4 epochs from scratch] " << eval.dump() << "\n";
  EXPECT_GT(eval["eval_f1"].get<double>(), 0.05);
  EXPECT_GT(eval["eval_accuracy"].get<double>(), 0.85);

  const CmdResult e = run_command(kCli + " evaluate --model " + shell_quote(out) + " --data " +
                                      shell_quote(kWnut + "emerging.dev.conll") + " --max-length 128 --batch-size 8",
                                  /*merge_stderr=*/false);
  ASSERT_EQ(e.rc, 0) << e.out;
  const json again = json::parse(e.out);  // the metrics object, pretty-printed
  for (const char* key : {"eval_f1", "eval_precision", "eval_recall", "eval_accuracy"})
    EXPECT_NEAR(again[key].get<double>(), eval[key].get<double>(), 1e-12) << key;
  // The loss is a mean over batches weighted by their example counts (as Trainer's): the same batch size (the
  // training run's per_device_eval_batch_size, 8) gives the same batches and the same loss.
  EXPECT_NEAR(again["eval_loss"].get<double>(), eval["eval_loss"].get<double>(), 1e-6);

  // pipeline("ner"): every entity's start/end slice the text to its word (uncased BERT: lowercase words).
  const std::string text = "I went to New York with Barack Obama to see the Lakers play in Los Angeles";
  for (const char* strategy : {"none", "simple", "first", "average", "max"}) {
    const CmdResult p = run_command(kCli + " predict --model " + shell_quote(out) + " --aggregation-strategy " +
                                        strategy + " " + shell_quote(text),
                                    /*merge_stderr=*/false);
    ASSERT_EQ(p.rc, 0) << p.out;
    const json entities = json::parse(p.out);
    ASSERT_TRUE(entities.is_array()) << p.out;
    for (const json& e : entities) {
      const std::string key = std::string(strategy) == "none" ? "entity" : "entity_group";
      ASSERT_TRUE(e.contains(key) && e.contains("score") && e.contains("word")) << e.dump();
      EXPECT_EQ(e.contains("index"), std::string(strategy) == "none") << e.dump();
      const int64_t start = e["start"], end = e["end"];
      std::string slice = text.substr(static_cast<size_t>(start), static_cast<size_t>(end - start));
      for (char& c : slice) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      EXPECT_EQ(slice, e["word"].get<std::string>()) << strategy << " " << e.dump();
      EXPECT_GT(e["score"].get<double>(), 0.0);
      EXPECT_LE(e["score"].get<double>(), 1.0);
    }
  }

  // LoRA on the trained model (PEFT task_type TOKEN_CLS: the classifier is trained in full beside the adapter);
  // the adapter predicts what its merged model predicts.
  const std::string adapter = dir / "adapter", merged = dir / "merged";
  const CmdResult l = run_command(kCli + " train --model " + shell_quote(out) + " --train-file " +
                                  shell_quote(kWnut + "emerging.dev.conll") + " --validation-split 0 --output-dir " +
                                  shell_quote(adapter) + " --epochs 1 --batch-size 16 --lr 1e-3 --lora --lora-r 4 --save-strategy no");
  ASSERT_EQ(l.rc, 0) << l.out;
  const json adapter_config = read_json(fs::path(adapter) / "adapter_config.json");
  EXPECT_EQ(adapter_config["task_type"], "TOKEN_CLS");
  EXPECT_EQ(adapter_config["modules_to_save"], json::array({"classifier", "score"}));
  ASSERT_EQ(run_command(kCli + " merge --adapter " + shell_quote(adapter) + " --output-dir " + shell_quote(merged)).rc, 0);
  EXPECT_EQ(read_json(fs::path(merged) / "config.json")["architectures"], json::array({"BertForTokenClassification"}));
  auto entities = [&](const std::string& model) {
    // fp32: in bf16 the adapter (W·x + B·A·x) and the merged model ((W + B·A)·x) round differently.
    const CmdResult p = run_command(kCli + " predict --precision fp32 --model " + shell_quote(model) +
                                        " --aggregation-strategy none " + shell_quote(text),
                                    /*merge_stderr=*/false);
    EXPECT_EQ(p.rc, 0) << p.out;
    return json::parse(p.out);
  };
  const json from_adapter = entities(adapter), from_merged = entities(merged);
  ASSERT_EQ(from_adapter.size(), from_merged.size()) << from_adapter.dump() << "\n" << from_merged.dump();
  for (size_t i = 0; i < from_adapter.size(); ++i) {
    EXPECT_EQ(from_adapter[i]["entity"], from_merged[i]["entity"]);
    EXPECT_EQ(from_adapter[i]["index"], from_merged[i]["index"]);
    EXPECT_NEAR(from_adapter[i]["score"].get<double>(), from_merged[i]["score"].get<double>(), 1e-5);
  }
}

TEST(CliTokenClassification, RobertaOnJsonLinesWithASplitAndLabelAllTokens) {
  TempDir dir("cli_ner_roberta");
  const fs::path base = dir / "base";
  fs::create_directories(base);
  const std::string vocab = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/roberta-base/";
  for (const char* f : {"vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json"})
    fs::copy_file(vocab + f, base / f);
  std::ofstream(base / "config.json")
      << json{{"model_type", "roberta"}, {"architectures", {"RobertaForMaskedLM"}}, {"vocab_size", 50265},
              {"hidden_size", 32}, {"num_hidden_layers", 1}, {"num_attention_heads", 2}, {"intermediate_size", 64},
              {"max_position_embeddings", 130}, {"type_vocab_size", 1}, {"pad_token_id", 1}, {"bos_token_id", 0},
              {"eos_token_id", 2}, {"layer_norm_eps", 1e-5}}
             .dump();
  // 300 WNUT sentences as JSON Lines {"tokens", "ner_tags"}.
  {
    std::ifstream conll(kWnut + "wnut17train.conll");
    std::ofstream jsonl(dir / "train.jsonl");
    json tokens = json::array(), tags = json::array();
    int sentences = 0;
    for (std::string line; std::getline(conll, line) && sentences < 300;) {
      const size_t tab = line.find('\t');
      if (line.empty() || tab == 0) {
        if (!tokens.empty()) jsonl << json{{"tokens", tokens}, {"ner_tags", tags}}.dump() << "\n", ++sentences;
        tokens = json::array(), tags = json::array();
        continue;
      }
      tokens.push_back(line.substr(0, tab));
      tags.push_back(line.substr(line.rfind('\t') + 1));
    }
  }
  const std::string out = (dir / "out");
  const CmdResult r = run_command(kCli + " train --task token-classification --model " + shell_quote(base.string()) +
                                  " --train-file " + shell_quote((dir / "train.jsonl")) + " --output-dir " +
                                  shell_quote(out) + " --epochs 1 --batch-size 8 --label-all-tokens --save-strategy no");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("split: 270 train / 30 validation sentences"), std::string::npos) << r.out;
  EXPECT_EQ(read_json(fs::path(out) / "config.json")["architectures"], json::array({"RobertaForTokenClassification"}));
  // The saved tokenizer is the one the model was trained with: add_prefix_space, as RobertaTokenizerFast(add_prefix_space=True).
  EXPECT_EQ(read_json(fs::path(out) / "tokenizer_config.json").value("add_prefix_space", false), true);
  EXPECT_TRUE(fs::exists(fs::path(out) / "validation.jsonl"));
  EXPECT_TRUE(read_json(fs::path(out) / "eval_results.json").contains("eval_f1"));
}

TEST(CliTokenClassification, ClearErrors) {
  TempDir dir("cli_ner_errors");
  write_tiny_bert(dir / "base");
  {
    std::ofstream bad(dir / "bad.conll");
    bad << "Paris\tB-location\nis\nnice\tO\n";
  }
  CmdResult r = run_command(kCli + " train --task token-classification --model " + shell_quote((dir / "base")) +
                            " --train-file " + shell_quote((dir / "bad.conll")) + " --max-length 64 --output-dir " +
                            shell_quote((dir / "out")));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("bad.conll:2"), std::string::npos) << r.out;
  r = run_command(kCli + " train --task question-answering --model " + shell_quote((dir / "base")) +
                  " --train-file " + shell_quote(kWnut + "emerging.dev.conll") + " --max-length 64 --output-dir " +
                  shell_quote((dir / "out2")));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("emerging.dev.conll: not valid JSON"), std::string::npos) << r.out;  // read as SQuAD
  r = run_command(kCli + " train --task translation --model x --train-file " + shell_quote(kWnut + "emerging.dev.conll") +
                  " --output-dir " + shell_quote((dir / "out3")));
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("unknown task 'translation'"), std::string::npos) << r.out;
}
