// `accent tokenize` end to end: runs the built binary on a small input and checks every printed line against the
// library (ids, tokens, pairs with truncation and padding, invalid UTF-8 warning, bad arguments).
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "text/tokenizer.h"
#include "text_oracle_util.h"

using namespace accent;
using accent::testing::TempDir;
using accent::testing::slurp;

namespace {

const std::string kBert = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/bert-base-uncased";

struct CliRun {
  int rc;
  std::vector<nlohmann::json> lines;
  std::string err;
};

CliRun run_cli(const TempDir& dir, const std::string& args) {
  const std::string out = dir.file("out.txt"), err = dir.file("err.txt");
  const std::string cmd = std::string("'") + ACCENT_CLI_PATH + "' tokenize " + args + " > '" + out + "' 2> '" + err + "'";
  CliRun r;
  r.rc = std::system(cmd.c_str());
  std::istringstream is(slurp(out));
  for (std::string line; std::getline(is, line);) r.lines.push_back(nlohmann::json::parse(line));
  r.err = slurp(err);
  return r;
}

}  // namespace

TEST(CliTokenize, MatchesLibrary) {
  TempDir dir("cli_tok");
  const Tokenizer tok = Tokenizer::from_pretrained(kBert);
  const std::vector<std::string> lines = {"Hello, world!", "Café déjà vu [SEP] 中文", "", "a\xFF" "b don't stop"};
  {
    std::ofstream f(dir.file("in.txt"), std::ios::binary);
    for (const auto& l : lines) f << l << "\n";
  }
  CliRun r = run_cli(dir, "--model '" + kBert + "' --input '" + dir.file("in.txt") + "'");
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_EQ(r.lines.size(), lines.size());
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(r.lines[i].get<std::vector<int32_t>>(), tok.encode(lines[i]).ids) << i;
  EXPECT_NE(r.err.find("1 invalid UTF-8"), std::string::npos) << r.err;

  r = run_cli(dir, "--model '" + kBert + "/tokenizer.json' --input '" + dir.file("in.txt") + "' --show tokens");
  ASSERT_EQ(r.rc, 0) << r.err;
  for (size_t i = 0; i < lines.size(); ++i)
    EXPECT_EQ(r.lines[i].get<std::vector<std::string>>(), tok.encode(lines[i]).tokens) << i;

  {
    std::ofstream f(dir.file("pairs.txt"), std::ios::binary);
    f << "the first sentence is rather long indeed\tshort one\r\nq\tan answer that goes on and on\n";
  }
  r = run_cli(dir, "--model '" + kBert + "' --input '" + dir.file("pairs.txt") +
                       "' --pair --max-length 10 --truncation longest_first --padding longest --pad-to-multiple-of 4");
  ASSERT_EQ(r.rc, 0) << r.err;
  EncodeOptions o;
  o.max_length = 10;
  o.truncation = TruncationStrategy::LongestFirst;
  o.padding = PaddingStrategy::Longest;
  o.pad_to_multiple_of = 4;
  const auto expected = tok.encode_batch({{"the first sentence is rather long indeed", std::string("short one")},
                                          {"q", std::string("an answer that goes on and on")}}, o);
  ASSERT_EQ(r.lines.size(), 2u);
  for (size_t i = 0; i < 2; ++i) EXPECT_EQ(r.lines[i].get<std::vector<int32_t>>(), expected[i].ids) << i;
  EXPECT_EQ(expected[0].size(), 12u);

  r = run_cli(dir, "--model '" + kBert + "' --input '" + dir.file("in.txt") + "' --pair");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("--pair expects"), std::string::npos) << r.err;
  r = run_cli(dir, "--model '" + kBert + "' --input '" + dir.file("in.txt") + "' --truncation sideways");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("--truncation"), std::string::npos) << r.err;
}

// --offsets / --return-overflowing-tokens / --stride / --is-split-into-words print transformers' BatchEncoding
// fields; the expected values are what Hugging Face tokenizers (the npm oracle, tokenizers 0.22) returns.
TEST(CliTokenize, OffsetsWindowsAndWords) {
  TempDir dir("cli_tok_offsets");
  {
    std::ofstream f(dir.file("in.txt"), std::ios::binary);
    f << "na\xC3\xAFve  r\xC3\xA9sum\xC3\xA9 \xE4\xB8\xAD\xE6\x96\x87 x\n";  // "naïve  résumé 中文 x"
  }
  CliRun r = run_cli(dir, "--model '" + kBert + "' --input '" + dir.file("in.txt") + "' --offsets");
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 1u);
  using Offsets = std::vector<std::vector<int>>;
  EXPECT_EQ(r.lines[0]["tokens"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"[CLS]", "naive", "resume", "\xE4\xB8\xAD", "\xE6\x96\x87", "x", "[SEP]"}));
  EXPECT_EQ(r.lines[0]["offset_mapping"].get<Offsets>(), (Offsets{{0, 0}, {0, 5}, {7, 13}, {14, 15}, {15, 16}, {17, 18}, {0, 0}}));
  EXPECT_EQ(r.lines[0]["sequence_ids"].dump(), "[null,0,0,0,0,0,null]");
  EXPECT_EQ(r.lines[0]["word_ids"].dump(), "[null,0,1,2,3,4,null]");

  // Question answering windows: only_second, max_length 10, stride 2 → 4 windows of the context.
  {
    std::ofstream f(dir.file("pairs.txt"), std::ios::binary);
    f << "who is it\tthe quick brown fox jumps over the lazy dog today\n";
  }
  r = run_cli(dir, "--model '" + kBert + "' --input '" + dir.file("pairs.txt") +
                       "' --pair --truncation only_second --max-length 10 --stride 2 --return-overflowing-tokens --offsets");
  ASSERT_EQ(r.rc, 0) << r.err;
  ASSERT_EQ(r.lines.size(), 4u);
  const Offsets question = {{0, 0}, {0, 3}, {4, 6}, {7, 9}, {0, 0}};
  const std::vector<Offsets> context = {{{0, 3}, {4, 9}, {10, 15}, {16, 19}},
                                        {{10, 15}, {16, 19}, {20, 25}, {26, 30}},
                                        {{20, 25}, {26, 30}, {31, 34}, {35, 39}},
                                        {{31, 34}, {35, 39}, {40, 43}, {44, 49}}};
  for (size_t w = 0; w < 4; ++w) {
    Offsets expected = question;
    expected.insert(expected.end(), context[w].begin(), context[w].end());
    expected.push_back({0, 0});
    EXPECT_EQ(r.lines[w]["offset_mapping"].get<Offsets>(), expected) << "window " << w;
    EXPECT_EQ(r.lines[w]["sequence_ids"].dump(), "[null,0,0,0,null,1,1,1,1,null]") << w;
    EXPECT_EQ(r.lines[w]["overflow_to_sample_mapping"].get<int>(), 0);
  }

  // Pre-tokenized words: offsets relative to each word, word ids = word index; equal to the library.
  {
    std::ofstream f(dir.file("words.jsonl"), std::ios::binary);
    f << "[\"Hello\", \"w\xC3\xB6rld\", \"x\"]\n";
  }
  const std::string kRoberta = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/roberta-base";
  r = run_cli(dir, "--model '" + kRoberta + "' --input '" + dir.file("words.jsonl") + "' --is-split-into-words --offsets");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("add_prefix_space"), std::string::npos) << r.err;
  r = run_cli(dir, "--model '" + kRoberta + "' --input '" + dir.file("words.jsonl") +
                       "' --is-split-into-words --offsets --add-prefix-space");
  ASSERT_EQ(r.rc, 0) << r.err;
  Tokenizer roberta = Tokenizer::from_pretrained(kRoberta);
  roberta.set_add_prefix_space(true);
  EncodeOptions eo;
  eo.return_offsets_mapping = true;
  const Encoding e = roberta.encode_words({"Hello", "w\xC3\xB6rld", "x"}, std::nullopt, eo);
  EXPECT_EQ(r.lines[0]["input_ids"].get<std::vector<int32_t>>(), e.ids);
  EXPECT_EQ(r.lines[0]["tokens"].get<std::vector<std::string>>(),
            (std::vector<std::string>{"<s>", "\xC4\xA0Hello", "\xC4\xA0w", "\xC3\x83\xC2\xB6r", "ld", "\xC4\xA0x", "</s>"}));
  EXPECT_EQ(r.lines[0]["word_ids"].dump(), "[null,0,1,1,1,2,null]");
  EXPECT_EQ(r.lines[0]["offset_mapping"].get<Offsets>(), (Offsets{{0, 0}, {0, 5}, {0, 1}, {1, 3}, {3, 5}, {0, 1}, {0, 0}}));

  r = run_cli(dir, "--model '" + kBert + "' --input '" + dir.file("in.txt") + "' --stride 2");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.err.find("--return-overflowing-tokens"), std::string::npos) << r.err;
}
