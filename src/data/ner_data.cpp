// data/ner_data.cpp — see ner_data.h.
#include "data/ner_data.h"

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <fstream>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"
#include "data/utf8_check.h"

namespace accent {
namespace {

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";
constexpr std::string_view kDocStart = "-DOCSTART-";

std::string_view drop_bom(std::string_view text) {
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  return text;
}

// The separators of CoNLL columns: ASCII whitespace other than "\n" (what Python's str.split() splits on, minus its
// non-ASCII spaces: those are kept inside words, as the tab-splitting loaders of `datasets` keep them).
bool is_column_separator(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'; }

std::vector<std::string_view> split_columns(std::string_view line) {
  std::vector<std::string_view> columns;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && is_column_separator(line[i])) ++i;
    const size_t start = i;
    while (i < line.size() && !is_column_separator(line[i])) ++i;
    if (i > start) columns.push_back(line.substr(start, i - start));
  }
  return columns;
}

// Throws "<origin>:<line>:<column>: invalid UTF-8 …" at the first ill-formed sequence in `line`.
void check_utf8_line(std::string_view line, const std::string& origin, int64_t line_no) {
  int64_t column = 0;  // code points before i
  for (size_t i = 0; i < line.size();) {
    size_t bad = 0;
    const size_t n = utf8_sequence_length(line, i, &bad);
    ++column;
    ACCENT_CHECK(n != 0, origin, ":", line_no, ":", column, ": invalid UTF-8 (byte 0x", std::hex,
                 static_cast<int>(static_cast<unsigned char>(line[i])), std::dec,
                 " does not start a well-formed sequence); the file must be UTF-8");
    i += n;
  }
}

// At most `max_bytes` of `s` for an error message, cut at a code point boundary, with "…" when cut.
std::string excerpt(std::string_view s, size_t max_bytes = 80) {
  if (s.size() <= max_bytes) return std::string(s);
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return std::string(s.substr(0, cut)) + "…";
}

// Calls `on_line(line_without_eol, 1-based line number)` for every line of `text` ("\n" ends a line; a "\r" before
// it is dropped). A last line without "\n" is a line; the empty string after a final "\n" is not.
template <typename OnLine>
void for_each_line(std::string_view text, OnLine&& on_line) {
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    on_line(line, ++line_no);
    pos = end + 1;
  }
}

bool is_blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == ' ' || c == '\t' || c == '\r'; });
}


bool is_json_extension(const std::string& path) {
  const std::string ext = lowercase_extension(path);
  return ext == ".jsonl" || ext == ".json";
}

enum class TagKind { Unknown, String, Integer };

// Reads JSON records into sentences, holding what must agree across the records of one file (the tag kind).
class NerJsonRecords {
 public:
  NerJsonRecords() = default;

  // `where` names the record ("file:12" or "file: record 3"); `line` is stored in the sentence.
  void add(const nlohmann::json& record, const std::string& where, int64_t line) {
    ACCENT_CHECK(record.is_object(), where, ": expected a JSON object with \"tokens\" and \"ner_tags\", got ",
                 excerpt(record.dump()));
    const auto tokens = record.find("tokens");
    ACCENT_CHECK(tokens != record.end(), where, ": missing key \"tokens\" (the list of words)");
    const char* tags_key = record.contains("ner_tags") ? "ner_tags" : "tags";
    const auto tags = record.find(tags_key);
    ACCENT_CHECK(tags != record.end(), where, ": missing key \"ner_tags\" (or \"tags\"): the list of tags, one per word");
    ACCENT_CHECK(tokens->is_array(), where, ": \"tokens\" must be an array of strings, got ", excerpt(tokens->dump()));
    ACCENT_CHECK(tags->is_array(), where, ": \"", tags_key, "\" must be an array of strings or integers, got ",
                 excerpt(tags->dump()));
    ACCENT_CHECK(tokens->size() == tags->size(), where, ": \"tokens\" has ", tokens->size(), " elements but \"",
                 tags_key, "\" has ", tags->size(), "; expected one tag per token");
    TaggedSentence sentence;
    sentence.line = line;
    for (size_t i = 0; i < tokens->size(); ++i) {
      const auto& token = (*tokens)[i];
      ACCENT_CHECK(token.is_string(), where, ": \"tokens\"[", i, "] must be a string, got ", excerpt(token.dump()));
      sentence.tokens.push_back(token.get<std::string>());
    }
    for (size_t i = 0; i < tags->size(); ++i) {
      const auto& tag = (*tags)[i];
      // number_integer / number_unsigned only: 1.0 is a float in Python and would not index a label list.
      const bool is_int = tag.is_number_integer();
      ACCENT_CHECK(is_int || tag.is_string(), where, ": \"", tags_key, "\"[", i,
                   "] must be a string or an integer, got ", excerpt(tag.dump()));
      ACCENT_CHECK(!tag.is_number_unsigned() || tag.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX), where,
                   ": \"", tags_key, "\"[", i, "] = ", tag.dump(), " is larger than a 64-bit integer");
      note_kind(is_int ? TagKind::Integer : TagKind::String, where, tags_key);
      sentence.tags.push_back(is_int ? tag.dump() : tag.get<std::string>());
    }
    sentences_.push_back(std::move(sentence));
  }

  std::vector<TaggedSentence> finish() {
    for (auto& s : sentences_) s.tags_are_integers = kind_ == TagKind::Integer;
    return std::move(sentences_);
  }

 private:
  // `datasets` gives a column one type; a file mixing integer and string tags does not load there either.
  void note_kind(TagKind kind, const std::string& where, const char* tags_key) {
    if (kind_ == TagKind::Unknown) {
      kind_ = kind;
      first_kind_where_ = where;
      return;
    }
    ACCENT_CHECK(kind == kind_, where, ": \"", tags_key, "\" holds ", kind == TagKind::Integer ? "integers" : "strings",
                 " but the tags at ", first_kind_where_, " are ", kind_ == TagKind::Integer ? "integers" : "strings",
                 "; one file must use one kind of tag");
  }

  std::vector<TaggedSentence> sentences_;
  TagKind kind_ = TagKind::Unknown;
  std::string first_kind_where_;
};

}  // namespace

std::vector<TaggedSentence> parse_conll(std::string_view text, const std::string& origin) {
  std::vector<TaggedSentence> sentences;
  TaggedSentence current;
  auto end_sentence = [&] {
    if (!current.tokens.empty()) sentences.push_back(std::move(current));
    current = TaggedSentence();
  };
  for_each_line(drop_bom(text), [&](std::string_view line, int64_t line_no) {
    check_utf8_line(line, origin, line_no);
    const std::vector<std::string_view> columns = split_columns(line);
    if (columns.empty() || columns.front() == kDocStart) {  // a sentence break, or a document marker
      end_sentence();
      return;
    }
    ACCENT_CHECK(columns.size() >= 2, origin, ":", line_no,
                 ": expected a token and a tag separated by whitespace (tab or spaces), got one column \"",
                 excerpt(columns.front()), "\"");
    if (current.tokens.empty()) current.line = line_no;
    current.tokens.emplace_back(columns.front());
    current.tags.emplace_back(columns.back());
  });
  end_sentence();
  return sentences;
}

std::vector<TaggedSentence> read_conll_file(const std::string& path) {
  require_file_not_directory_or_device(path);
  return parse_conll(read_file(path), path);
}

std::vector<TaggedSentence> parse_ner_json(std::string_view text, const std::string& origin) {
  text = drop_bom(text);
  NerJsonRecords records;
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && text[first] == '[') {  // one JSON array of records
    const nlohmann::json all = parse_json(text, origin);
    for (size_t i = 0; i < all.size(); ++i)
      records.add(all[i], origin + ": record " + std::to_string(i + 1), static_cast<int64_t>(i + 1));
    return records.finish();
  }
  for_each_line(text, [&](std::string_view line, int64_t line_no) {
    if (is_blank(line)) return;
    const std::string where = origin + ":" + std::to_string(line_no);
    records.add(parse_json(line, where), where, line_no);
  });
  return records.finish();
}

std::vector<TaggedSentence> read_ner_json_file(const std::string& path) {
  require_file_not_directory_or_device(path);
  return parse_ner_json(read_file(path), path);
}

std::vector<TaggedSentence> read_ner_file(const std::string& path) {
  return is_json_extension(path) ? read_ner_json_file(path) : read_conll_file(path);
}

std::vector<std::string> label_list(const std::vector<TaggedSentence>& sentences) {
  std::set<std::string> string_tags;  // std::string compares bytes: for UTF-8, code point order
  std::set<int64_t> integer_tags;
  for (const TaggedSentence& s : sentences) {
    if (s.tags.empty()) continue;
    for (const std::string& tag : s.tags) {
      if (s.tags_are_integers) integer_tags.insert(std::stoll(tag));
      else string_tags.insert(tag);
    }
    ACCENT_CHECK(string_tags.empty() || integer_tags.empty(), "label_list: the sentence at line ", s.line, " has ",
                 s.tags_are_integers ? "integer" : "string", " tags but earlier sentences have ",
                 s.tags_are_integers ? "string" : "integer", " tags; all files of one run must use one kind");
  }
  std::vector<std::string> labels(string_tags.begin(), string_tags.end());
  for (int64_t tag : integer_tags) labels.push_back(std::to_string(tag));
  return labels;
}

bool looks_like_ner_file(const std::string& path) {
  static const std::set<std::string> kNerExtensions = {".conll", ".iob", ".iob2", ".bio", ".bioes", ".ner"};
  const std::string ext = lowercase_extension(path);
  if (kNerExtensions.count(ext)) return true;
  constexpr size_t kSampleBytes = size_t{64} << 10;
  std::string sample(kSampleBytes, '\0');
  bool whole_file = false;
  {
    std::ifstream in(path, std::ios::binary);
    if (!in) return false;
    in.read(sample.data(), static_cast<std::streamsize>(sample.size()));
    sample.resize(static_cast<size_t>(in.gcount()));
    whole_file = in.eof();
  }
  std::string_view text = drop_bom(sample);
  if (is_json_extension(path)) {
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return false;
    std::string_view record;
    if (text[first] == '[') {
      // The first element of an array is not a line; without a JSON streaming parser, ask for the whole array.
      if (!whole_file) return false;
      record = text.substr(first);
    } else {
      const size_t eol = text.find('\n', first);
      if (eol == std::string_view::npos && !whole_file) return false;
      record = text.substr(first, eol == std::string_view::npos ? std::string_view::npos : eol - first);
    }
    try {
      nlohmann::json j = parse_json(record, path);
      if (j.is_array()) {
        if (j.empty()) return false;
        j = j[0];
      }
      if (!j.is_object()) return false;
      const auto tokens = j.find("tokens");
      const auto tags = j.contains("ner_tags") ? j.find("ner_tags") : j.find("tags");
      return tokens != j.end() && tokens->is_array() && tags != j.end() && tags->is_array();
    } catch (const Error&) {
      return false;
    }
  }
  // Column text: drop the last line of a cut sample (it may be cut inside).
  if (!whole_file) {
    const size_t eol = text.rfind('\n');
    text = eol == std::string_view::npos ? std::string_view() : text.substr(0, eol + 1);
  }
  int token_lines = 0;
  size_t columns_per_line = 0;
  bool seen_break = false, pending_break = false, ok = true;
  for_each_line(text, [&](std::string_view line, int64_t) {
    if (!ok || token_lines >= 200) return;
    const std::vector<std::string_view> columns = split_columns(line);
    if (columns.empty()) {
      pending_break = token_lines > 0;
      return;
    }
    if (columns.front() == kDocStart) return;
    if (columns_per_line == 0) columns_per_line = columns.size();
    if (columns.size() < 2 || columns.size() != columns_per_line) {  // CoNLL files are rectangular
      ok = false;
      return;
    }
    if (pending_break) seen_break = true;
    pending_break = false;
    ++token_lines;
  });
  return ok && token_lines > 0 && (seen_break || whole_file);
}

}  // namespace accent
