#include "data/table.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "core/json_parse.h"
#include "data/delimited.h"
#include "data/utf8_check.h"

namespace accent {

int64_t Table::column_index(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<int64_t>(i);
  return -1;
}

size_t Table::require_column(const std::string& name, const std::string& role) const {
  const int64_t i = column_index(name);
  if (i >= 0) return static_cast<size_t>(i);
  std::string found;
  for (size_t k = 0; k < columns.size(); ++k) found += (k ? ", " : "") + ("'" + columns[k] + "'");
  std::string hint;
  if (!has_header && (format == "csv" || format == "tsv"))
    hint = " (the file is read without a header row, so columns are numbered from 0)";
  fail(path, lines_are_records ? ": " : ":1: ", "no ", role, " column '", name, "'; columns found: ",
       found.empty() ? "(none)" : found, hint);
}

std::string Table::where(size_t row) const {
  if (lines_are_records) return path + ": record " + std::to_string(lines[row]);
  return path + ":" + std::to_string(lines[row]);
}

std::string resolve_table_format(const std::string& path, const std::string& format) {
  static const std::set<std::string> known = {"csv", "tsv", "tsv-raw", "jsonl", "json"};
  if (format != "auto") {
    ACCENT_CHECK(known.count(format), "unknown data format '", format,
                 "' (expected auto, csv, tsv, tsv-raw, jsonl or json)");
    return format;
  }
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
  if (ext == ".csv") return "csv";
  if (ext == ".tsv") return "tsv";
  if (ext == ".txt") return "tsv-raw";
  if (ext == ".jsonl" || ext == ".ndjson") return "jsonl";
  if (ext == ".json") return "json";
  fail(path, ": cannot tell the data format from the extension '", ext,
       "' (expected .csv, .tsv, .txt, .jsonl or .json); give the format explicitly (csv, tsv, tsv-raw, jsonl, json)");
}

std::vector<std::string> pandas_header_names(std::vector<std::string> names) {
  // pandas/_libs/parsers.pyx TextReader._get_header: empty names become "Unnamed: i"; then duplicates are mangled
  // visiting named columns first and unnamed ones last; a candidate "name.k" that already appears in the header
  // is skipped.
  std::vector<size_t> order, unnamed;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i].empty()) {
      names[i] = "Unnamed: " + std::to_string(i);
      unnamed.push_back(i);
    } else {
      order.push_back(i);
    }
  }
  order.insert(order.end(), unnamed.begin(), unnamed.end());
  const std::set<std::string> original(names.begin(), names.end());
  std::map<std::string, int64_t> counts;
  for (size_t i : order) {
    std::string col = names[i];
    const std::string old_col = col;
    int64_t cur = counts.count(col) ? counts[col] : 0;
    while (cur > 0) {
      counts[old_col] = cur + 1;
      col = old_col + "." + std::to_string(cur);
      if (original.count(col))
        ++cur;
      else
        cur = counts.count(col) ? counts[col] : 0;
    }
    names[i] = col;
    counts[col] = cur + 1;
  }
  return names;
}

namespace {

// Delimited text (csv, tsv) through the pandas-compatible tokenizer.
void parse_delimited(std::string_view text, const LineIndex& index, char delimiter, const TableOptions& opt,
                     bool has_header, Table& t) {
  DelimitedResult r = tokenize_delimited(text, DelimitedOptions{delimiter, opt.quoting}, t.path, index);
  ACCENT_CHECK(!r.rows.empty(), t.path, ": no rows: the file is empty (pandas: 'No columns to parse from file')");
  t.blank_lines_skipped = r.blank_lines_skipped;
  t.padded_rows = r.padded_rows;
  size_t first = 0;
  if (has_header) {
    t.columns = pandas_header_names(std::move(r.rows[0].fields));
    first = 1;
  } else {
    for (size_t i = 0; i < r.rows[0].fields.size(); ++i) t.columns.push_back(std::to_string(i));
  }
  t.rows.reserve(r.rows.size() - first);
  t.lines.reserve(r.rows.size() - first);
  for (size_t k = first; k < r.rows.size(); ++k) {
    t.rows.push_back(std::move(r.rows[k].fields));
    t.lines.push_back(index.line(r.rows[k].offset));
  }
}

// tsv-raw: one row per line, split at the last tab into (text, label).
void parse_raw_lines(std::string_view text, bool has_header, Table& t) {
  int64_t line_no = 0;
  size_t pos = 0;
  bool header_pending = has_header;
  t.columns = {"text", "label"};
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty()) {
      ++t.blank_lines_skipped;
      continue;
    }
    const size_t tab = line.rfind('\t');
    ACCENT_CHECK(tab != std::string_view::npos, t.path, ":", line_no,
                 ": no tab in this line (format tsv-raw expects '<text>\\t<label>' on every line)");
    std::vector<std::string> cells = {std::string(line.substr(0, tab)), std::string(line.substr(tab + 1))};
    if (header_pending) {
      t.columns = pandas_header_names(std::move(cells));
      header_pending = false;
      continue;
    }
    t.rows.push_back(std::move(cells));
    t.lines.push_back(line_no);
  }
}

std::string json_cell(const nlohmann::ordered_json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_null()) return "";
  return v.dump();
}

// Adds one JSON object as a row; new keys become new columns (earlier rows get "" there).
void add_record(nlohmann::ordered_json obj, int64_t where, const std::string& what, Table& t) {
  ACCENT_CHECK(obj.is_object(), t.path, what, where, ": expected a JSON object, got ", obj.type_name());
  for (auto it = obj.begin(); it != obj.end(); ++it) {
    if (t.column_index(it.key()) < 0) {
      t.columns.push_back(it.key());
      for (auto& row : t.rows) row.emplace_back();
    }
  }
  std::vector<std::string> cells(t.columns.size());
  for (size_t c = 0; c < t.columns.size(); ++c) {
    auto it = obj.find(t.columns[c]);
    if (it != obj.end()) cells[c] = json_cell(*it);
  }
  t.rows.push_back(std::move(cells));
  t.lines.push_back(where);
  t.records.push_back(std::move(obj));
}

void parse_json_lines(std::string_view text, Table& t) {
  int64_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) {
      ++t.blank_lines_skipped;
      continue;
    }
    add_record(parse_ordered_json(line, t.path + ":" + std::to_string(line_no)), line_no, ":", t);
  }
}

void parse_json_array(std::string_view text, Table& t) {
  // One level more than a JSONL row: the array around the records.
  JsonParseOptions limits;
  limits.max_depth = kMaxJsonDepth + 1;
  nlohmann::ordered_json arr = parse_ordered_json(text, t.path, limits);
  ACCENT_CHECK(arr.is_array(), t.path, ": expected a JSON array of objects");
  t.lines_are_records = true;
  int64_t k = 0;
  for (auto& obj : arr) add_record(std::move(obj), ++k, ": record ", t);
}

}  // namespace

Table parse_table(std::string_view bytes, const std::string& path, const TableOptions& opt) {
  Table t;
  t.path = path;
  t.format = resolve_table_format(path, opt.format);
  if (bytes.substr(0, 3) == "\xEF\xBB\xBF") bytes.remove_prefix(3);  // UTF-8 BOM

  std::string replaced;
  std::string_view text = bytes;
  const size_t bad = find_invalid_utf8(bytes);
  if (bad != std::string_view::npos) {
    if (!opt.replace_invalid_utf8) {
      LineIndex index(bytes);
      fail(path, ":", index.line(bad), ":", index.column(bad), ": invalid UTF-8 (byte 0x", std::hex,
           static_cast<int>(static_cast<unsigned char>(bytes[bad])), std::dec,
           "); convert the file to UTF-8, or pass --replace-invalid-utf8 to replace bad bytes with U+FFFD (counted)");
    }
    std::vector<size_t> at;
    replaced = replace_invalid_utf8(bytes, &at);
    text = replaced;
    LineIndex index(text);
    std::set<int64_t> bad_lines;
    for (size_t off : at) bad_lines.insert(index.line(off));
    t.invalid_utf8_replaced = static_cast<int64_t>(at.size());
    t.invalid_utf8_lines = static_cast<int64_t>(bad_lines.size());
  }

  if (t.format == "csv" || t.format == "tsv") {
    t.has_header = opt.has_header.value_or(true);
    LineIndex index(text);
    parse_delimited(text, index, t.format == "csv" ? ',' : '\t', opt, t.has_header, t);
  } else if (t.format == "tsv-raw") {
    t.has_header = opt.has_header.value_or(false);
    parse_raw_lines(text, t.has_header, t);
  } else if (t.format == "jsonl") {
    t.has_header = true;
    parse_json_lines(text, t);
  } else {  // json: an array, or JSON Lines
    t.has_header = true;
    const size_t first = text.find_first_not_of(" \t\r\n");
    if (first != std::string_view::npos && text[first] == '[')
      parse_json_array(text, t);
    else
      parse_json_lines(text, t);
  }
  return t;
}

Table read_table(const std::string& path, const TableOptions& options) {
  const std::string bytes = read_file(path);
  return parse_table(bytes, path, options);
}

}  // namespace accent
