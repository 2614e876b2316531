// `accent train` / `accent evaluate` for extractive question answering (run_qa.py): a SQuAD v1.1 file recognised
// without --task, windows with a stride, a BERT trained from scratch whose answers beat the empty answer (EM and F1
// 0), eval_predictions.json, and the saved BertForQuestionAnswering directory evaluated again with the same scores.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "cli_test_data.h"
#include "test_util.h"

using namespace accent::testing;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

const std::string kCli = ACCENT_CLI_PATH;
const std::string kSquad = std::string(ACCENT_TEST_DATA_DIR) + "/question-answering/squad-v1.1/dev-v1.1-first2.json";

json read_json(const fs::path& p) {
  std::ifstream is(p);
  return json::parse(is);
}

}  // namespace

TEST(CliQuestionAnswering, BertFromScratchAnswersBetterThanEmptyAndEvaluatesTheSame) {
  TempDir dir("cli_qa_bert");
  write_tiny_bert(dir / "base", {.hidden = 64, .layers = 2, .intermediate = 256, .max_positions = 192});
  const std::string out = dir / "out";
  const CmdResult r = run_command(kCli + " train --model " + shell_quote(dir / "base") + " --train-file " +
                                  shell_quote(kSquad) + " --output-dir " + shell_quote(out) +
                                  " --epochs 3 --batch-size 16 --lr 2e-3 --max-length 192 --doc-stride 64 --save-strategy no");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("1057 questions (SQuAD v1.1)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("split: 951 train / 106 validation questions"), std::string::npos) << r.out;
  EXPECT_EQ(read_json(fs::path(out) / "config.json")["architectures"], json::array({"BertForQuestionAnswering"}));
  const json eval = read_json(fs::path(out) / "eval_results.json");
  std::cout << "[squad subset, 106 validation questions, 3 epochs from scratch] " << eval.dump() << "\n";
  // The empty answer scores EM 0 and F1 0 on SQuAD v1.1 (every question has an answer).
  EXPECT_GT(eval["eval_exact_match"].get<double>(), 1.0);
  EXPECT_GT(eval["eval_f1"].get<double>(), 3.0);
  const json predictions = read_json(fs::path(out) / "eval_predictions.json");
  EXPECT_EQ(predictions.size(), 106u);

  // The saved model, evaluated on a SQuAD file of exactly the validation questions, scores what the run reported.
  json squad = read_json(kSquad);
  json validation = {{"version", "1.1"}, {"data", json::array()}};
  for (const auto& article : squad["data"]) {
    json a = {{"title", article["title"]}, {"paragraphs", json::array()}};
    for (const auto& p : article["paragraphs"]) {
      json para = {{"context", p["context"]}, {"qas", json::array()}};
      for (const auto& q : p["qas"])
        if (predictions.contains(q["id"].get<std::string>())) para["qas"].push_back(q);
      if (!para["qas"].empty()) a["paragraphs"].push_back(para);
    }
    if (!a["paragraphs"].empty()) validation["data"].push_back(a);
  }
  std::ofstream(dir / "validation.json") << validation.dump();
  const CmdResult e = run_command(kCli + " evaluate --model " + shell_quote(out) + " --data " +
                                      shell_quote(dir / "validation.json") + " --max-length 192",
                                  /*merge_stderr=*/false);
  ASSERT_EQ(e.rc, 0) << e.out;
  const json again = json::parse(e.out);
  EXPECT_NEAR(again["eval_exact_match"].get<double>(), eval["eval_exact_match"].get<double>(), 1e-9);
  EXPECT_NEAR(again["eval_f1"].get<double>(), eval["eval_f1"].get<double>(), 1e-9);

  // pipeline("question-answering"): one answer object, or a list for top_k > 1; answer = context[start:end].
  const std::string context = "The Denver Broncos defeated the Carolina Panthers 24-10 to win Super Bowl 50 in Santa Clara.";
  CmdResult p = run_command(kCli + " predict --model " + shell_quote(out) + " --question 'Who won Super Bowl 50?' --context " +
                                shell_quote(context),
                            /*merge_stderr=*/false);
  ASSERT_EQ(p.rc, 0) << p.out;
  const json one = json::parse(p.out);
  ASSERT_TRUE(one.is_object()) << p.out;
  EXPECT_EQ(one["answer"].get<std::string>(),
            context.substr(one["start"].get<size_t>(), one["end"].get<size_t>() - one["start"].get<size_t>()));
  std::ofstream(dir / "pairs.jsonl") << json{{"question", "Where was the game?"}, {"context", context}}.dump() << "\n"
                                     << json{{"question", "Who lost?"}, {"context", context}}.dump() << "\n";
  p = run_command(kCli + " predict --model " + shell_quote(out) + " --input " + shell_quote(dir / "pairs.jsonl") +
                      " --top-k 3 --handle-impossible-answer",
                  /*merge_stderr=*/false);
  ASSERT_EQ(p.rc, 0) << p.out;
  std::istringstream lines(p.out);
  int answered = 0;
  for (std::string line; std::getline(lines, line); ++answered) {
    const json list = json::parse(line);
    ASSERT_TRUE(list.is_array() && list.size() == 3) << line;
    for (size_t i = 1; i < list.size(); ++i) EXPECT_GE(list[i - 1]["score"].get<double>(), list[i]["score"].get<double>());
  }
  EXPECT_EQ(answered, 2);
}

// SQuAD v2.0 (unanswerable questions): recognised from the data, evaluated with squad_v2's keys (HasAns / NoAns
// splits and best thresholds); non-ASCII contexts (German, Japanese) round-trip through offsets and predict.
TEST(CliQuestionAnswering, SquadV2WithUnanswerableQuestions) {
  TempDir dir("cli_qa_v2");
  write_tiny_bert(dir / "base", {.hidden = 32, .layers = 1, .intermediate = 64, .max_positions = 64});
  const std::string v2 = std::string(ACCENT_TEST_DATA_DIR) + "/question-answering/squad-v2.0/dev-v2.0-handmade.json";
  const std::string out = dir / "out";
  const CmdResult r = run_command(kCli + " train --model " + shell_quote(dir / "base") + " --train-file " +
                                  shell_quote(v2) + " --validation-file " + shell_quote(v2) + " --output-dir " +
                                  shell_quote(out) + " --epochs 2 --batch-size 4 --max-length 64 --doc-stride 16 --save-strategy no");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_NE(r.out.find("8 questions (SQuAD v2.0, with unanswerable questions)"), std::string::npos) << r.out;
  const json eval = read_json(fs::path(out) / "eval_results.json");
  for (const char* key : {"eval_exact", "eval_f1", "eval_total", "eval_HasAns_exact", "eval_HasAns_f1", "eval_HasAns_total",
                          "eval_NoAns_exact", "eval_NoAns_f1", "eval_NoAns_total", "eval_best_exact", "eval_best_f1"})
    EXPECT_TRUE(eval.contains(key)) << key << " " << eval.dump();
  EXPECT_EQ(eval["eval_total"], 8);
  EXPECT_EQ(eval["eval_HasAns_total"], 5);
  EXPECT_EQ(eval["eval_NoAns_total"], 3);
  const json predictions = read_json(fs::path(out) / "eval_predictions.json");
  EXPECT_EQ(predictions.size(), 8u);
  const std::string context = "Der Zürichsee liegt südöstlich von Zürich.";
  const CmdResult p = run_command(kCli + " predict --model " + shell_quote(out) + " --question 'Wo liegt der See?' --context " +
                                      shell_quote(context) + " --handle-impossible-answer",
                                  /*merge_stderr=*/false);
  ASSERT_EQ(p.rc, 0) << p.out;
  const json answer = json::parse(p.out);
  ASSERT_TRUE(answer.is_object()) << p.out;
  // start/end are code points: the answer is the context's code points [start, end).
  int64_t code_points = 0;
  for (unsigned char c : context) code_points += (c & 0xC0) != 0x80;
  const int64_t start = answer["start"], end = answer["end"];
  EXPECT_LE(0, start);
  EXPECT_LE(start, end);
  EXPECT_LE(end, code_points);
  if (end > start) {
    size_t byte = 0, begin_byte = 0, end_byte = context.size();
    for (int64_t cp = 0; byte <= context.size(); ++cp) {
      if (cp == start) begin_byte = byte;
      if (cp == end) {
        end_byte = byte;
        break;
      }
      const unsigned char c = static_cast<unsigned char>(context[byte]);
      byte += c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    }
    EXPECT_EQ(answer["answer"].get<std::string>(), context.substr(begin_byte, end_byte - begin_byte));
  }
}
