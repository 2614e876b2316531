// data/squad_data.cpp — see squad_data.h.
#include "data/squad_data.h"

#include <fstream>

#include <algorithm>
#include <cctype>
#include <unordered_map>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"

namespace accent {
namespace {

using json = nlohmann::json;

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

std::string_view drop_bom(std::string_view text) {
  if (text.substr(0, kUtf8Bom.size()) == kUtf8Bom) text.remove_prefix(kUtf8Bom.size());
  return text;
}

// A JSON value for an error message, cut to `max_bytes` at a code point boundary.
std::string excerpt(const json& value, size_t max_bytes = 80) {
  std::string s = value.dump();
  if (s.size() <= max_bytes) return s;
  size_t cut = max_bytes;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;
  return s.substr(0, cut) + "…";
}

const json& member(const json& object, const char* key, const std::string& where) {
  const auto it = object.find(key);
  ACCENT_CHECK(it != object.end(), where, ": missing key \"", key, "\"");
  return *it;
}

std::string string_member(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  ACCENT_CHECK(v.is_string(), where, ": \"", key, "\" must be a string, got ", excerpt(v));
  return v.get<std::string>();
}

// Question ids are strings in SQuAD; a hand-made flat file may number its rows, so integers are taken too.
std::string id_member(const json& object, const std::string& where) {
  const json& v = member(object, "id", where);
  ACCENT_CHECK(v.is_string() || v.is_number_integer(), where, ": \"id\" must be a string or an integer, got ",
               excerpt(v));
  return v.is_string() ? v.get<std::string>() : v.dump();
}

const json& array_member(const json& object, const char* key, const std::string& where) {
  const json& v = member(object, key, where);
  ACCENT_CHECK(v.is_array(), where, ": \"", key, "\" must be an array, got ", excerpt(v));
  return v;
}

int64_t answer_start_value(const json& v, const std::string& where) {
  ACCENT_CHECK(v.is_number_integer() && v.get<int64_t>() >= 0, where,
               ": \"answer_start\" must be a non-negative integer (code points into the context), got ", excerpt(v));
  return v.get<int64_t>();
}

// Collects examples, checking each answer against its context and each id against those seen.
class SquadCollector {
 public:
  explicit SquadCollector(std::string origin) : origin_(std::move(origin)) {}

  // `where` names the question in errors. `declared_impossible` is the nested form's "is_impossible" (absent -> the
  // answers decide, as for the flat form).
  void add(SquadExample ex, const std::string& where, const json* declared_impossible) {
    const bool no_answers = ex.answer_texts.empty();
    if (declared_impossible) {
      ACCENT_CHECK(declared_impossible->is_boolean(), origin_, ": question id \"", ex.id, "\" (", where,
                   "): \"is_impossible\" must be true or false, got ", excerpt(*declared_impossible));
      const bool impossible = declared_impossible->get<bool>();
      ACCENT_CHECK(impossible == no_answers, origin_, ": question id \"", ex.id, "\" (", where, "): \"is_impossible\" is ",
                   impossible ? "true" : "false", " but the question has ", ex.answer_texts.size(), " answer(s)",
                   impossible ? "; an unanswerable question has none (its guesses go in \"plausible_answers\")"
                              : "; an answerable question needs at least one");
    } else {
      // v1.1 has no "is_impossible"; a v1.1 question without answers would train on nothing.
      ACCENT_CHECK(!no_answers || allow_unanswered_, origin_, ": question id \"", ex.id, "\" (", where,
                   "): no answers, and no \"is_impossible\": true to say it is unanswerable");
    }
    ex.is_impossible = no_answers;
    for (size_t i = 0; i < ex.answer_texts.size(); ++i) {
      // HF `datasets` takes answer_start on trust and run_qa.py would train on whatever span it points at. A text
      // that is not at its offset means the file was edited or re-encoded (e.g. offsets counted in bytes or UTF-16
      // units): refuse it rather than learn the wrong span.
      const std::string& text = ex.answer_texts[i];
      const int64_t start = ex.answer_starts_chars[i];
      const int64_t byte_start = utf8_byte_offset(ex.context, start);
      ACCENT_CHECK(byte_start >= 0, origin_, ": question id \"", ex.id, "\" (", where, "): answer ", i,
                   " starts at code point ", start, ", past the end of its context (", code_points(ex.context),
                   " code points)");
      // Comparing bytes from a code point boundary is comparing code points: `text` is valid UTF-8.
      if (ex.context.compare(static_cast<size_t>(byte_start), text.size(), text) != 0) {
        fail(origin_, ": question id \"", ex.id, "\" (", where, "): answer ", i, " \"", text,
             "\" is not at its answer_start ", start, " (code points): the context there reads \"",
             code_point_prefix(std::string_view(ex.context).substr(static_cast<size_t>(byte_start)),
                               code_points(text)),
             "\"; the file's offsets are broken");
      }
      ex.answer_starts_bytes.push_back(byte_start);
    }
    const auto [it, inserted] = first_place_of_id_.emplace(ex.id, where);
    ACCENT_CHECK(inserted, origin_, ": question id \"", ex.id, "\" is used twice: ", it->second, " and ", where,
                 "; ids must be unique (predictions are matched to questions by id)");
    data_.examples.push_back(std::move(ex));
  }

  void allow_unanswered(bool allow) { allow_unanswered_ = allow; }
  SquadData& data() { return data_; }

 private:
  static int64_t code_points(std::string_view s) {
    return std::count_if(s.begin(), s.end(), [](char c) { return (static_cast<unsigned char>(c) & 0xC0) != 0x80; });
  }
  // The first `n` code points of `s`.
  static std::string code_point_prefix(std::string_view s, int64_t n) {
    const int64_t end = utf8_byte_offset(s, std::min(n, code_points(s)));
    return std::string(s.substr(0, static_cast<size_t>(end)));
  }

  std::string origin_;
  SquadData data_;
  std::unordered_map<std::string, std::string> first_place_of_id_;
  bool allow_unanswered_ = true;
};

// Fills answer texts and starts from the nested form's [{"text", "answer_start"}, …].
void read_nested_answers(const json& answers, const std::string& where, SquadExample& ex) {
  for (size_t a = 0; a < answers.size(); ++a) {
    const std::string at = where + ".answers[" + std::to_string(a) + "]";
    const json& answer = answers[a];
    ACCENT_CHECK(answer.is_object(), at, ": expected {\"text\", \"answer_start\"}, got ", excerpt(answer));
    ex.answer_texts.push_back(string_member(answer, "text", at));
    ex.answer_starts_chars.push_back(answer_start_value(member(answer, "answer_start", at), at));
  }
}

// One flat row: {"id", "title"?, "context", "question", "answers": {"text": [...], "answer_start": [...]}}.
SquadExample flat_row(const json& row, const std::string& where) {
  ACCENT_CHECK(row.is_object(), where, ": expected an object with \"id\", \"context\", \"question\", \"answers\", got ",
               excerpt(row));
  SquadExample ex;
  ex.id = id_member(row, where);
  const auto title = row.find("title");
  if (title != row.end() && !title->is_null()) {
    ACCENT_CHECK(title->is_string(), where, ": \"title\" must be a string, got ", excerpt(*title));
    ex.title = title->get<std::string>();
  }
  ex.context = string_member(row, "context", where);
  ex.question = string_member(row, "question", where);
  const json& answers = member(row, "answers", where);
  ACCENT_CHECK(answers.is_object(), where, ": \"answers\" must be {\"text\": [...], \"answer_start\": [...]}, got ",
               excerpt(answers));
  const json& texts = array_member(answers, "text", where + ": \"answers\"");
  const json& starts = array_member(answers, "answer_start", where + ": \"answers\"");
  ACCENT_CHECK(texts.size() == starts.size(), where, ": \"answers\" has ", texts.size(), " texts but ", starts.size(),
               " answer_start values; expected one start per text");
  for (size_t a = 0; a < texts.size(); ++a) {
    ACCENT_CHECK(texts[a].is_string(), where, ": answers.text[", a, "] must be a string, got ", excerpt(texts[a]));
    ex.answer_texts.push_back(texts[a].get<std::string>());
    ex.answer_starts_chars.push_back(answer_start_value(starts[a], where + ": answers.answer_start[" + std::to_string(a) + "]"));
  }
  return ex;
}

// JSON Lines or one document? JSON Lines when the first non-blank line is, on its own, a JSON object with a
// "question": a pretty-printed document's first line ("{" or "[") does not parse alone, and {"data": [...]} on one
// line has no "question" at its top.
bool starts_json_lines(std::string_view text, const std::string& origin) {
  const size_t first = text.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return true;  // empty: no rows either way
  if (text[first] != '{') return false;
  const size_t eol = text.find('\n', first);
  const std::string_view line = text.substr(first, eol == std::string_view::npos ? std::string_view::npos : eol - first);
  try {
    const json row = parse_json(line, origin);
    return row.is_object() && row.contains("question");
  } catch (const Error&) {
    return false;
  }
}


}  // namespace

bool SquadData::has_impossible() const {
  return std::any_of(examples.begin(), examples.end(), [](const SquadExample& e) { return e.is_impossible; });
}

int64_t utf8_byte_offset(std::string_view s, int64_t index) {
  if (index < 0) return -1;
  int64_t seen = 0;  // code points before byte i
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;  // a continuation byte
    if (seen == index) return static_cast<int64_t>(i);
    ++seen;
  }
  return seen == index ? static_cast<int64_t>(s.size()) : -1;
}

SquadData parse_squad_json(std::string_view text, const std::string& origin) {
  const json root = parse_json(drop_bom(text), origin);
  ACCENT_CHECK(root.is_object(), origin, ": expected a SQuAD object {\"version\", \"data\": [...]}, got ", excerpt(root));
  SquadCollector collector(origin);
  const auto version = root.find("version");
  if (version != root.end()) {
    ACCENT_CHECK(version->is_string(), origin, ": \"version\" must be a string, got ", excerpt(*version));
    collector.data().version = version->get<std::string>();
  }
  // v1.1 has no unanswerable questions: there a question without answers is an error, not an impossible one.
  collector.allow_unanswered(false);
  const json& articles = array_member(root, "data", origin);
  for (size_t a = 0; a < articles.size(); ++a) {
    const std::string at = origin + ": data[" + std::to_string(a) + "]";
    const json& article = articles[a];
    ACCENT_CHECK(article.is_object(), at, ": expected an article {\"title\", \"paragraphs\"}, got ", excerpt(article));
    const auto title_it = article.find("title");
    std::string title;
    if (title_it != article.end()) {
      ACCENT_CHECK(title_it->is_string(), at, ": \"title\" must be a string, got ", excerpt(*title_it));
      title = title_it->get<std::string>();
    }
    const json& paragraphs = array_member(article, "paragraphs", at);
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string pt = "data[" + std::to_string(a) + "].paragraphs[" + std::to_string(p) + "]";
      const json& paragraph = paragraphs[p];
      ACCENT_CHECK(paragraph.is_object(), origin, ": ", pt, ": expected {\"context\", \"qas\"}, got ", excerpt(paragraph));
      const std::string context = string_member(paragraph, "context", origin + ": " + pt);
      const json& qas = array_member(paragraph, "qas", origin + ": " + pt);
      for (size_t q = 0; q < qas.size(); ++q) {
        const std::string qt = pt + ".qas[" + std::to_string(q) + "]";
        const std::string where = origin + ": " + qt;
        const json& qa = qas[q];
        ACCENT_CHECK(qa.is_object(), where, ": expected {\"id\", \"question\", \"answers\"}, got ", excerpt(qa));
        SquadExample ex;
        ex.id = id_member(qa, where);
        ex.title = title;
        ex.question = string_member(qa, "question", where);
        ex.context = context;
        read_nested_answers(array_member(qa, "answers", where), where, ex);
        const auto impossible = qa.find("is_impossible");
        collector.add(std::move(ex), qt, impossible == qa.end() ? nullptr : &*impossible);
      }
    }
  }
  return std::move(collector.data());
}

SquadData parse_squad_rows(std::string_view text, const std::string& origin) {
  text = drop_bom(text);
  SquadCollector collector(origin);
  if (!starts_json_lines(text, origin)) {
    // One JSON document: a bare array of rows, or {"data": [rows]} (run_qa.py loads .json with field="data").
    const json root = parse_json(text, origin);
    const bool wrapped = root.is_object() && root.contains("data");
    ACCENT_CHECK(root.is_array() || wrapped, origin,
                 ": expected JSON Lines of {\"id\", \"context\", \"question\", \"answers\"} rows, an array of them, "
                 "or {\"data\": [rows]}");
    const json& rows = wrapped ? array_member(root, "data", origin) : root;
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string where = "record " + std::to_string(i + 1);
      collector.add(flat_row(rows[i], origin + ": " + where), where, nullptr);
    }
    return std::move(collector.data());
  }
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;  // blank lines are skipped
    const std::string where = "line " + std::to_string(line_no);
    const std::string origin_line = origin + ":" + std::to_string(line_no);
    collector.add(flat_row(parse_json(line, origin_line), origin_line), where, nullptr);
  }
  return std::move(collector.data());
}

SquadData read_squad_file(const std::string& path) {
  require_file_not_directory_or_device(path);
  const std::string text = read_file(path);
  if (lowercase_extension(path) == ".jsonl") return parse_squad_rows(text, path);
  // Nested or flat: look at the first element of "data". Parsing twice costs little next to tokenizing.
  const json root = parse_json(drop_bom(text), path);
  const bool nested = root.is_object() && root.contains("data") && root["data"].is_array() && !root["data"].empty() &&
                      root["data"][0].is_object() && root["data"][0].contains("paragraphs");
  return nested ? parse_squad_json(text, path) : parse_squad_rows(text, path);
}

bool looks_like_squad_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return false;
  std::string head(64 * 1024, '\0');
  in.read(head.data(), static_cast<std::streamsize>(head.size()));
  head.resize(static_cast<size_t>(in.gcount()));
  auto has = [&](const char* key) { return head.find(key) != std::string::npos; };
  return (has("\"paragraphs\"") && has("\"qas\"")) ||
         (has("\"context\"") && has("\"question\"") && has("\"answers\""));
}

}  // namespace accent
