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
