// SQuAD readers: the first two articles of the official v1.1 dev set (counts computed independently with Python),
// the hand-made v2.0 file (unanswerable questions, non-ASCII contexts where code-point and byte offsets differ),
// the flat `datasets` rows run_qa.py reads, and the errors for broken offsets, duplicated ids and bad shapes.
#include <gtest/gtest.h>

#include <fstream>

#include "core/error.h"
#include "data/squad_data.h"
#include "error_text.h"
#include "test_util.h"

namespace accent {
namespace {

using testing::error_of;
using testing::TempDir;

const std::string kQaDir = std::string(ACCENT_TEST_DATA_DIR) + "/question-answering/";

void write_text(const std::string& path, const std::string& bytes) {
  std::ofstream out(path, std::ios::binary);
  out << bytes;
}

const SquadExample& by_id(const SquadData& data, const std::string& id) {
  for (const auto& ex : data.examples)
    if (ex.id == id) return ex;
  throw Error("no question " + id);
}

// Expected counts, from Python's json module (no code shared with the reader):
//   python3 -c 'import json; d = json.load(open(F)); q = [q for a in d["data"] for p in a["paragraphs"]
//     for q in p["qas"]]; print(len(d["data"]), len(q), sum(len(x["answers"]) for x in q),
//     len({x["id"] for x in q}))'
// -> 2 1057 3172 1057 (articles Super_Bowl_50 and Warsaw; 103 paragraphs; 759 answers start after a non-ASCII
// character, so their byte and code-point starts differ).
TEST(SquadData, OfficialV11Subset) {
  const SquadData data = read_squad_file(kQaDir + "squad-v1.1/dev-v1.1-first2.json");
  EXPECT_EQ(data.version, "1.1");
  ASSERT_EQ(data.examples.size(), 1057u);
  size_t answers = 0, shifted = 0;
  for (const auto& ex : data.examples) {
    answers += ex.answer_texts.size();
    ASSERT_FALSE(ex.is_impossible);
    ASSERT_EQ(ex.answer_starts_bytes.size(), ex.answer_texts.size());
    for (size_t i = 0; i < ex.answer_texts.size(); ++i) {
      // The byte start is where the text really is in the UTF-8 context.
      ASSERT_EQ(ex.context.substr(static_cast<size_t>(ex.answer_starts_bytes[i]), ex.answer_texts[i].size()),
                ex.answer_texts[i]);
      if (ex.answer_starts_bytes[i] != ex.answer_starts_chars[i]) ++shifted;
    }
  }
  EXPECT_EQ(answers, 3172u);
  EXPECT_EQ(shifted, 759u);
  EXPECT_FALSE(data.has_impossible());
  EXPECT_EQ(data.examples.front().id, "56be4db0acb8001400a502ec");
  EXPECT_EQ(data.examples.front().title, "Super_Bowl_50");
  EXPECT_EQ(data.examples.back().id, "5732b6b5328d981900602025");
  EXPECT_EQ(data.examples.back().title, "Warsaw");
  // The context has "(\u2013" … before it: "Santa Clara, California" is at code point 403, byte 405.
  const SquadExample& where = by_id(data, "56be4db0acb8001400a502ee");
  EXPECT_EQ(where.question, "Where did Super Bowl 50 take place?");
  EXPECT_EQ(where.answer_texts[0], "Santa Clara, California");
  EXPECT_EQ(where.answer_starts_chars[0], 403);
  EXPECT_EQ(where.answer_starts_bytes[0], 405);
}

TEST(SquadData, HandMadeV20) {
  const SquadData data = read_squad_file(kQaDir + "squad-v2.0/dev-v2.0-handmade.json");
  EXPECT_EQ(data.version, "v2.0");
  ASSERT_EQ(data.examples.size(), 8u);
  EXPECT_TRUE(data.has_impossible());
  int impossible = 0;
  for (const auto& ex : data.examples) impossible += ex.is_impossible;
  EXPECT_EQ(impossible, 3);
  const SquadExample& zh2 = by_id(data, "zh-2");  // "Der Zürichsee liegt südöstlich …": ü is 2 bytes
  EXPECT_EQ(zh2.title, "Z\xC3\xBCrich");
  EXPECT_EQ(zh2.answer_starts_chars, (std::vector<int64_t>{20}));
  EXPECT_EQ(zh2.answer_starts_bytes, (std::vector<int64_t>{21}));
  const SquadExample& tt1 = by_id(data, "tt-1");  // Japanese: 3 bytes per character
  EXPECT_EQ(tt1.answer_starts_chars, (std::vector<int64_t>{6}));
  EXPECT_EQ(tt1.answer_starts_bytes, (std::vector<int64_t>{18}));
  const SquadExample& rk1 = by_id(data, "rk-1");  // after U+1F680: one code point, 4 bytes (2 UTF-16 units)
  EXPECT_EQ(rk1.answer_texts, (std::vector<std::string>{"40,000"}));
  EXPECT_EQ(rk1.answer_starts_chars, (std::vector<int64_t>{28}));
  EXPECT_EQ(rk1.answer_starts_bytes, (std::vector<int64_t>{31}));
  const SquadExample& zh3 = by_id(data, "zh-3");
  EXPECT_TRUE(zh3.is_impossible);
  EXPECT_TRUE(zh3.answer_texts.empty());  // plausible_answers are not answers
  EXPECT_EQ(by_id(data, "zh-1").answer_texts.size(), 2u);  // duplicates kept
}

TEST(SquadData, EscapedAstralCharacters) {
  // "\ud83d\ude80" is one code point (U+1F680): the answer after it starts at code point 2, byte 5.
  const std::string text = R"({"version": "v2.0", "data": [{"title": "t", "paragraphs": [{"context": "\ud83d\ude80 go",
    "qas": [{"id": "q", "question": "?", "answers": [{"text": "go", "answer_start": 2}], "is_impossible": false}]}]}]})";
  const SquadData data = parse_squad_json(text, "astral.json");
  ASSERT_EQ(data.examples.size(), 1u);
  EXPECT_EQ(data.examples[0].answer_starts_bytes, (std::vector<int64_t>{5}));
  EXPECT_EQ(utf8_byte_offset("a\xC3\xA9z", 2), 3);
  EXPECT_EQ(utf8_byte_offset("a\xC3\xA9z", 3), 4);
  EXPECT_EQ(utf8_byte_offset("a\xC3\xA9z", 4), -1);
}

std::string one_question(const std::string& context, const std::string& answers, const std::string& extra = "") {
  return R"({"version": "1.1", "data": [{"title": "T", "paragraphs": [{"context": ")" + context +
         R"(", "qas": [{"id": "q1", "question": "Q?", "answers": )" + answers + extra + "}]}]}]}";
}

TEST(SquadData, BrokenAnswerStartIsAnError) {
  // "Café 1895": a reader that counted bytes would put "1895" at 6; the file says 5 (code points). 6 is broken.
  EXPECT_EQ(parse_squad_json(one_question("Caf\\u00e9 1895", R"([{"text": "1895", "answer_start": 5}])"), "ok.json")
                .examples[0]
                .answer_starts_bytes,
            (std::vector<int64_t>{6}));
  EXPECT_EQ(error_of([] {
              parse_squad_json(one_question("Caf\\u00e9 1895", R"([{"text": "1895", "answer_start": 6}])"), "b.json");
            }),
            "b.json: question id \"q1\" (data[0].paragraphs[0].qas[0]): answer 0 \"1895\" is not at its answer_start 6 "
            "(code points): the context there reads \"895\"; the file's offsets are broken");
  EXPECT_EQ(error_of([] {
              parse_squad_json(one_question("short", R"([{"text": "x", "answer_start": 9}])"), "b.json");
            }),
            "b.json: question id \"q1\" (data[0].paragraphs[0].qas[0]): answer 0 starts at code point 9, past the end "
            "of its context (5 code points)");
  EXPECT_EQ(error_of([] {
              parse_squad_json(one_question("short", R"([{"text": "s", "answer_start": -1}])"), "b.json");
            }),
            "b.json: data[0].paragraphs[0].qas[0].answers[0]: \"answer_start\" must be a non-negative integer (code "
            "points into the context), got -1");
}

TEST(SquadData, ImpossibleMustAgreeWithAnswers) {
  EXPECT_EQ(error_of([] {
              parse_squad_json(one_question("abc", R"([{"text": "a", "answer_start": 0}])", R"(, "is_impossible": true)"),
                               "v2.json");
            }),
            "v2.json: question id \"q1\" (data[0].paragraphs[0].qas[0]): \"is_impossible\" is true but the question "
            "has 1 answer(s); an "
            "unanswerable question has none (its guesses go in \"plausible_answers\")");
  EXPECT_EQ(error_of([] { parse_squad_json(one_question("abc", "[]"), "v1.json"); }),
            "v1.json: question id \"q1\" (data[0].paragraphs[0].qas[0]): no answers, and no \"is_impossible\": true "
            "to say it is unanswerable");
  const SquadData ok = parse_squad_json(one_question("abc", "[]", R"(, "is_impossible": true)"), "v2.json");
  EXPECT_TRUE(ok.examples[0].is_impossible);
}

TEST(SquadData, DuplicatedIdIsAnError) {
  const std::string text = R"({"data": [{"title": "A", "paragraphs": [
    {"context": "x y", "qas": [{"id": "same", "question": "a?", "answers": [{"text": "x", "answer_start": 0}]}]},
    {"context": "y z", "qas": [{"id": "same", "question": "b?", "answers": [{"text": "z", "answer_start": 2}]}]}]}]})";
  EXPECT_EQ(error_of([&] { parse_squad_json(text, "dup.json"); }),
            "dup.json: question id \"same\" is used twice: data[0].paragraphs[0].qas[0] and "
            "data[0].paragraphs[1].qas[0]; ids must be unique (predictions are matched to questions by id)");
  const std::string rows =
      R"({"id": "r", "context": "ab", "question": "?", "answers": {"text": ["a"], "answer_start": [0]}})" "\n"
      R"({"id": "r", "context": "ab", "question": "?", "answers": {"text": [], "answer_start": []}})" "\n";
  EXPECT_EQ(error_of([&] { parse_squad_rows(rows, "dup.jsonl"); }),
            "dup.jsonl: question id \"r\" is used twice: line 1 and line 2; ids must be unique (predictions are "
            "matched to questions by id)");
}

TEST(SquadData, FlatRowsAsRunQaReadsThem) {
  const std::string rows =
      R"({"id": "a", "title": "Z\u00fcrich", "context": "Z\u00fcrich is big", "question": "What?", "answers": {"text": ["big"], "answer_start": [10]}})"
      "\n\n"
      R"({"id": "b", "context": "nothing here", "question": "Who?", "answers": {"text": [], "answer_start": []}})"
      "\n";
  const SquadData data = parse_squad_rows(rows, "rows.jsonl");
  ASSERT_EQ(data.examples.size(), 2u);
  EXPECT_EQ(data.examples[0].answer_starts_bytes, (std::vector<int64_t>{11}));
  EXPECT_EQ(data.examples[0].title, "Z\xC3\xBCrich");
  EXPECT_TRUE(data.examples[1].is_impossible);
  EXPECT_EQ(data.examples[1].title, "");

  TempDir dir("squad");
  write_text(dir / "rows.jsonl", rows);
  EXPECT_EQ(read_squad_file(dir / "rows.jsonl").examples.size(), 2u);
  // run_qa.py's .json: the rows under "data".
  write_text(dir / "rows.json", R"({"data": [{"id": "a", "context": "ab", "question": "?",
    "answers": {"text": ["b"], "answer_start": [1]}}]})");
  const SquadData wrapped = read_squad_file(dir / "rows.json");
  ASSERT_EQ(wrapped.examples.size(), 1u);
  EXPECT_EQ(wrapped.examples[0].answer_texts, (std::vector<std::string>{"b"}));

  EXPECT_EQ(error_of([] {
              parse_squad_rows(R"({"id": "a", "context": "ab", "question": "?", "answers": {"text": ["b"], "answer_start": []}})",
                               "bad.jsonl");
            }),
            "bad.jsonl:1: \"answers\" has 1 texts but 0 answer_start values; expected one start per text");
  EXPECT_EQ(error_of([] { parse_squad_rows(R"({"id": "a", "question": "?", "answers": {}})", "bad.jsonl"); }),
            "bad.jsonl:1: missing key \"context\"");
  EXPECT_EQ(error_of([] {
              parse_squad_rows(R"({"id": "a", "context": "ab", "question": "?", "answers": {"text": ["a"], "answer_start": [1]}})",
                               "bad.jsonl");
            }),
            "bad.jsonl: question id \"a\" (line 1): answer 0 \"a\" is not at its answer_start 1 (code points): the "
            "context there reads \"b\"; the file's offsets are broken");
}

}  // namespace
}  // namespace accent
