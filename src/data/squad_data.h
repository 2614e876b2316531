// data/squad_data.h — extractive question-answering data (SQuAD v1.1 / v2.0), flattened to one example per question.
//
// Two layouts are read:
//  - the official nested JSON: {"version", "data": [{"title", "paragraphs": [{"context", "qas": [{"id",
//    "question", "answers": [{"text", "answer_start"}], "is_impossible"?, "plausible_answers"?}]}]}]};
//  - the flat rows of Hugging Face `datasets` (`squad`, `squad_v2`), which `run_qa.py` reads: {"id", "title",
//    "context", "question", "answers": {"text": [...], "answer_start": [...]}}, one per line (JSON Lines), or as the
//    list under "data" of a .json file (`run_qa.py` loads .json files with field="data").
//
// Offsets. `answer_start` counts Unicode code points of the decoded context (Python string indices; SQuAD was made
// in Python): in "Café 1895", "1895" starts at 5, but at byte 6 of the UTF-8. accent keeps strings as UTF-8, so
// each answer carries both: the code-point start as the file gives it (what HF's postprocessing compares with) and
// the byte start (what a C++ substring of `context` needs).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace accent {

// One question on one context. answer_texts[i] starts at answer_starts_chars[i] code points, which is
// answer_starts_bytes[i] bytes, into context. Reference answers are kept as given, duplicates included (SQuAD's
// evaluation takes the best match over them).
struct SquadExample {
  std::string id;
  std::string title;  // "" when the flat form has none
  std::string question;
  std::string context;
  std::vector<std::string> answer_texts;
  std::vector<int64_t> answer_starts_chars;  // code points into context, as in the file
  std::vector<int64_t> answer_starts_bytes;  // UTF-8 byte offsets into context
  bool is_impossible = false;  // SQuAD v2.0: the context does not answer it; answer_* are then empty
};

struct SquadData {
  std::string version;  // the nested form's "version" ("1.1", "v2.0"); "" for the flat form
  std::vector<SquadExample> examples;  // in file order
  // True when any question is unanswerable, i.e. the data needs `--version_2_with_negative`.
  bool has_impossible() const;
};

// The nested official form. `origin` names the file in errors, which also give the place in the tree
// ("data[1].paragraphs[4].qas[2]") and the question id. Errors:
//  - a missing or mistyped key;
//  - an answer whose text is not what its answer_start points at (code points), or that runs past the context: the
//    file is broken (HF `datasets` would not check, and training would learn from the wrong span);
//  - "is_impossible": true with answers, or false (or absent) with none;
//  - an id used by two questions (HF's metric keys predictions by id, so one of them would be lost).
// "plausible_answers" (v2.0, for unanswerable questions) are not read.
SquadData parse_squad_json(std::string_view text, const std::string& origin);

// The flat form: JSON Lines (`origin`:line in errors), or a .json text whose top level is {"data": [rows]} or a
// bare array of rows. A row with no answers is unanswerable (as in `squad_v2`); the same checks apply.
SquadData parse_squad_rows(std::string_view text, const std::string& origin);

// Reads `path`: ".jsonl" -> parse_squad_rows; otherwise JSON, nested when the first element of "data" has
// "paragraphs", flat rows when not.
SquadData read_squad_file(const std::string& path);

// Whether `path` looks like question-answering data (never throws): its first 64 KiB name "context",
// "question" and "answers" (flat rows) or "paragraphs" and "qas" (SQuAD's nested form).
bool looks_like_squad_file(const std::string& path);

// Byte offset of code point `index` in the UTF-8 string `s` (s.size() for index == code point count); -1 when
// `index` is negative or past the end. `s` must be valid UTF-8 (nlohmann's parser guarantees it for JSON strings).
int64_t utf8_byte_offset(std::string_view s, int64_t index);

}  // namespace accent
