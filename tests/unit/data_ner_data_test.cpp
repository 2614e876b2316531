// Token-classification readers: the real WNUT-17 files in tests/data (counts computed independently with awk),
// CoNLL's corner cases (-DOCSTART-, CRLF, no final newline, several blank lines, spaces as separators), JSON Lines
// with string and integer tags, the label list run_ner.py would build, and the errors for broken input.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "data/ner_data.h"
#include "error_text.h"
#include "test_util.h"

namespace accent {
namespace {

using testing::error_of;
using testing::TempDir;

const std::string kWnutDir = std::string(ACCENT_TEST_DATA_DIR) + "/token-classification/wnut17/";

void write_text(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

size_t token_count(const std::vector<TaggedSentence>& sentences) {
  size_t n = 0;
  for (const auto& s : sentences) n += s.tokens.size();
  return n;
}

// Expected counts, from a reader that shares nothing with ours (a sentence is a run of non-blank lines):
//   awk '{blank = ($0 ~ /^[ \t\r]*$/)} !blank{t++; if(!in_s){s++; in_s=1}} blank{in_s=0} END{print s, t}' FILE
// wnut17train.conll -> 3394 62730; emerging.dev.conll -> 1009 15733 (also the HF `wnut_17` split sizes).
TEST(NerData, Wnut17TrainFile) {
  const auto sentences = read_ner_file(kWnutDir + "wnut17train.conll");
  EXPECT_EQ(sentences.size(), 3394u);
  EXPECT_EQ(token_count(sentences), 62730u);
  for (const auto& s : sentences) ASSERT_EQ(s.tokens.size(), s.tags.size());
  ASSERT_FALSE(sentences.empty());
  EXPECT_EQ(sentences.front().line, 1);
  EXPECT_EQ(sentences.front().tokens.front(), "@paulwalk");
  EXPECT_EQ(sentences.back().tokens.back(), ")");
  EXPECT_EQ(sentences.back().tags.back(), "O");
  // python3: sorted({l.split('\t')[1] for l in open(F).read().split('\n') if l.strip()})
  const std::vector<std::string> expected = {"B-corporation", "B-creative-work", "B-group",  "B-location", "B-person",
                                             "B-product",     "I-corporation",   "I-creative-work", "I-group",
                                             "I-location",    "I-person",        "I-product", "O"};
  EXPECT_EQ(label_list(sentences), expected);
  EXPECT_TRUE(looks_like_ner_file(kWnutDir + "wnut17train.conll"));
}

TEST(NerData, Wnut17DevFileKeepsUnusualTokens) {
  const auto sentences = read_conll_file(kWnutDir + "emerging.dev.conll");
  EXPECT_EQ(sentences.size(), 1009u);
  EXPECT_EQ(token_count(sentences), 15733u);
  // Tokens that are or end in invisible characters are words, not separators:
  // line 6573 is U+FE0F (a lone emoji variation selector), line 15556 "watched" U+200B "was", line 16730
  // "Dubbz" U+FEFF (a BOM inside the file) tagged B-person.
  bool saw_vs16 = false, saw_zwsp = false, saw_bom = false;
  for (const auto& s : sentences)
    for (size_t i = 0; i < s.tokens.size(); ++i) {
      if (s.tokens[i] == "\xEF\xB8\x8F") saw_vs16 = true;
      if (s.tokens[i] == "watched\xE2\x80\x8Bwas") saw_zwsp = true;
      if (s.tokens[i] == "Dubbz\xEF\xBB\xBF") {
        saw_bom = true;
        EXPECT_EQ(s.tags[i], "B-person");
      }
    }
  EXPECT_TRUE(saw_vs16);
  EXPECT_TRUE(saw_zwsp);
  EXPECT_TRUE(saw_bom);
}

TEST(NerData, ConllDocstartBlankRunsAndMiddleColumns) {
  // CoNLL-2003 layout: token POS chunk tag, spaces between, -DOCSTART- then a blank line.
  const std::string text =
      "-DOCSTART- -X- -X- O\n"
      "\n"
      "EU NNP B-NP B-ORG\n"
      "rejects VBZ B-VP O\n"
      "\n\n\n"
      "Peter NNP B-NP B-PER\n"
      "-DOCSTART- -X- -X- O\n"
      "\n"
      "Blackburn NNP B-NP B-PER\n";
  const auto s = parse_conll(text, "t.conll");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].tokens, (std::vector<std::string>{"EU", "rejects"}));
  EXPECT_EQ(s[0].tags, (std::vector<std::string>{"B-ORG", "O"}));
  EXPECT_EQ(s[0].line, 3);
  EXPECT_EQ(s[1].tokens, (std::vector<std::string>{"Peter"}));  // ended by -DOCSTART- without a blank line
  EXPECT_EQ(s[1].line, 8);
  EXPECT_EQ(s[2].line, 11);
  EXPECT_EQ(label_list(s), (std::vector<std::string>{"B-ORG", "B-PER", "O"}));
}

TEST(NerData, ConllCrlfTabBlankAndNoFinalNewline) {
  // CRLF line ends, a tab-only separator (as in WNUT-17 train), a UTF-8 BOM, and a last line without "\n".
  const std::string text = "\xEF\xBB\xBFZ\xC3\xBCrich\tB-LOC\r\nis\tO\r\n\t\r\nnice\tO\r\n \r\nyes\tO";
  const auto s = parse_conll(text, "t.conll");
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(s[0].tokens, (std::vector<std::string>{"Z\xC3\xBCrich", "is"}));
  EXPECT_EQ(s[0].tags, (std::vector<std::string>{"B-LOC", "O"}));
  EXPECT_EQ(s[1].tokens, (std::vector<std::string>{"nice"}));
  EXPECT_EQ(s[1].line, 4);
  EXPECT_EQ(s[2].tokens, (std::vector<std::string>{"yes"}));
  EXPECT_EQ(s[2].tags, (std::vector<std::string>{"O"}));
  EXPECT_EQ(s[2].line, 6);
  EXPECT_TRUE(parse_conll("", "e.conll").empty());
  EXPECT_TRUE(parse_conll("\n\n\t\n", "e.conll").empty());
}

TEST(NerData, ConllErrorsNameFileAndLine) {
  EXPECT_EQ(error_of([] { parse_conll("a\tO\nb\tO\n\nlonely\n", "x.conll"); }),
            "x.conll:4: expected a token and a tag separated by whitespace (tab or spaces), got one column \"lonely\"");
  const std::string bad_utf8 = error_of([] { parse_conll("a\tO\nca\xFF\tO\n", "x.conll"); });
  EXPECT_NE(bad_utf8.find("x.conll:2:3: invalid UTF-8"), std::string::npos) << bad_utf8;
  TempDir dir("ner");
  write_text(dir / "one.txt", "a\tO\nb\n");
  EXPECT_EQ(error_of([&] { read_ner_file(dir / "one.txt"); }).rfind((dir / "one.txt") + ":2: expected a token", 0), 0u);
}

TEST(NerData, JsonLinesStringAndIntegerTags) {
  const std::string strings =
      "{\"tokens\": [\"Paris\", \"is\", \"big\"], \"ner_tags\": [\"B-LOC\", \"O\", \"O\"]}\n"
      "\n"
      "{\"id\": \"7\", \"tokens\": [\"Z\\u00fcrich\"], \"tags\": [\"B-LOC\"]}\r\n";
  const auto s = parse_ner_json(strings, "s.jsonl");
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].tags, (std::vector<std::string>{"B-LOC", "O", "O"}));
  EXPECT_EQ(s[1].tokens, (std::vector<std::string>{"Z\xC3\xBCrich"}));
  EXPECT_EQ(s[1].line, 3);
  EXPECT_FALSE(s[0].tags_are_integers);
  EXPECT_EQ(label_list(s), (std::vector<std::string>{"B-LOC", "O"}));

  // A ClassLabel column exported to JSON: integers, ordered as numbers (Python sorts ints: 0, 2, 10).
  const std::string ints =
      "{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [10, 0]}\n"
      "{\"tokens\": [\"c\"], \"ner_tags\": [2]}";
  const auto n = parse_ner_json(ints, "i.jsonl");
  ASSERT_EQ(n.size(), 2u);
  EXPECT_EQ(n[0].tags, (std::vector<std::string>{"10", "0"}));
  EXPECT_TRUE(n[0].tags_are_integers);
  EXPECT_EQ(label_list(n), (std::vector<std::string>{"0", "2", "10"}));

  // The same rows as one JSON array (a .json file).
  const auto a = parse_ner_json("[{\"tokens\": [\"x\"], \"ner_tags\": [\"O\"]}, {\"tokens\": [], \"ner_tags\": []}]",
                                "a.json");
  ASSERT_EQ(a.size(), 2u);
  EXPECT_EQ(a[1].line, 2);
  EXPECT_TRUE(a[1].tokens.empty());

  TempDir dir("ner");
  write_text(dir / "d.jsonl", ints);
  EXPECT_EQ(read_ner_file(dir / "d.jsonl").size(), 2u);
  EXPECT_TRUE(looks_like_ner_file(dir / "d.jsonl"));
}

TEST(NerData, JsonLinesErrorsNameLineAndKey) {
  EXPECT_EQ(error_of([] { parse_ner_json("{\"tokens\": [\"a\"], \"ner_tags\": [\"O\"]}\n"
                                          "{\"tokens\": [\"a\", \"b\"], \"ner_tags\": [\"O\"]}\n",
                                          "m.jsonl"); }),
            "m.jsonl:2: \"tokens\" has 2 elements but \"ner_tags\" has 1; expected one tag per token");
  EXPECT_EQ(error_of([] { parse_ner_json("{\"tokens\": [\"a\"]}", "m.jsonl"); }),
            "m.jsonl:1: missing key \"ner_tags\" (or \"tags\"): the list of tags, one per word");
  EXPECT_EQ(error_of([] { parse_ner_json("{\"words\": [\"a\"], \"tags\": [\"O\"]}", "m.jsonl"); }),
            "m.jsonl:1: missing key \"tokens\" (the list of words)");
  EXPECT_EQ(error_of([] { parse_ner_json("{\"tokens\": [\"a\"], \"tags\": [1.5]}", "m.jsonl"); }),
            "m.jsonl:1: \"tags\"[0] must be a string or an integer, got 1.5");
  EXPECT_EQ(error_of([] { parse_ner_json("{\"tokens\": [3], \"tags\": [\"O\"]}", "m.jsonl"); }),
            "m.jsonl:1: \"tokens\"[0] must be a string, got 3");
  EXPECT_EQ(error_of([] { parse_ner_json("{\"tokens\": [\"a\"], \"ner_tags\": [1]}\n"
                                          "{\"tokens\": [\"b\"], \"ner_tags\": [\"O\"]}", "m.jsonl"); }),
            "m.jsonl:2: \"ner_tags\" holds strings but the tags at m.jsonl:1 are integers; one file must use one kind "
            "of tag");
  const std::string not_json = error_of([] { parse_ner_json("{\"tokens\": [\"a\"], \"ner_tags\": [\"O\"]}\n{oops}\n",
                                                            "m.jsonl"); });
  EXPECT_EQ(not_json.rfind("m.jsonl:2: not valid JSON", 0), 0u) << not_json;
}

TEST(NerData, LabelListRefusesMixedKinds) {
  std::vector<TaggedSentence> mixed(2);
  mixed[0] = {{"a"}, {"1"}, 1, true};
  mixed[1] = {{"b"}, {"O"}, 5, false};
  EXPECT_EQ(error_of([&] { label_list(mixed); }),
            "label_list: the sentence at line 5 has string tags but earlier sentences have integer tags; all files of "
            "one run must use one kind");
}

TEST(NerData, LooksLikeNerFile) {
  TempDir dir("ner");
  write_text(dir / "a.txt", "EU\tB-ORG\nrejects\tO\n\nPeter\tB-PER\n");
  write_text(dir / "b.tsv", "sentence\tlabel\nit was fine\t1\n\nbad\t0\n");
  write_text(dir / "c.csv", "text,label\nhi,1\nho,0\n");
  write_text(dir / "d.jsonl", "{\"text\": \"hello\", \"label\": 1}\n");
  write_text(dir / "e.txt", "one\tO\n");  // the whole file, a single sentence
  EXPECT_TRUE(looks_like_ner_file(dir / "a.txt"));
  EXPECT_FALSE(looks_like_ner_file(dir / "b.tsv"));
  EXPECT_FALSE(looks_like_ner_file(dir / "c.csv"));
  EXPECT_FALSE(looks_like_ner_file(dir / "d.jsonl"));
  EXPECT_TRUE(looks_like_ner_file(dir / "e.txt"));
  EXPECT_FALSE(looks_like_ner_file(dir / "missing.txt"));
  EXPECT_TRUE(looks_like_ner_file(dir / "anything.conll"));  // by extension
}

}  // namespace
}  // namespace accent
