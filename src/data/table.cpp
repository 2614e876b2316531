#include "data/table.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "core/error.h"
#include "core/fs.h"
#include "data/table_stream.h"

namespace accent {

int64_t Table::column_index(const std::string& name) const {
  for (size_t i = 0; i < columns.size(); ++i)
    if (columns[i] == name) return static_cast<int64_t>(i);
  return -1;
}

size_t Table::require_column(const std::string& name, const std::string& role) const {
  const int64_t i = column_index(name);
  if (i >= 0) return static_cast<size_t>(i);
  fail_missing_column(path, columns, name, role, !has_header && (format == "csv" || format == "tsv"), lines_are_records);
}

void fail_missing_column(const std::string& path, const std::vector<std::string>& columns, const std::string& name,
                         const std::string& role, bool numbered_columns, bool lines_are_records) {
  std::string found;
  for (size_t k = 0; k < columns.size(); ++k) found += (k ? ", " : "") + ("'" + columns[k] + "'");
  const std::string hint =
      numbered_columns ? " (the file is read without a header row, so columns are numbered from 0)" : "";
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

// The rows of a parser gathered into a Table; JSON rows read before a later key appeared get "" for it.
Table gather(const TableParser& p, std::vector<TableRow>&& rows) {
  Table t;
  t.path = p.path();
  t.format = p.format();
  t.has_header = p.has_header();
  t.lines_are_records = p.lines_are_records();
  t.columns = p.columns();
  t.blank_lines_skipped = p.blank_lines_skipped();
  t.padded_rows = p.padded_rows();
  t.invalid_utf8_replaced = p.invalid_utf8_replaced();
  t.invalid_utf8_lines = p.invalid_utf8_lines();
  const bool json = t.format == "jsonl" || t.format == "json";
  t.rows.reserve(rows.size());
  t.lines.reserve(rows.size());
  if (json) t.records.reserve(rows.size());
  for (TableRow& r : rows) {
    if (json) {
      r.cells.resize(t.columns.size());
      t.records.push_back(std::move(r.record));
    }
    t.rows.push_back(std::move(r.cells));
    t.lines.push_back(r.line);
  }
  return t;
}

}  // namespace

Table parse_table(std::string_view bytes, const std::string& path, const TableOptions& opt) {
  TableParser parser(path, opt);
  std::vector<TableRow> rows;
  parser.feed(bytes, rows);
  parser.finish(rows);
  return gather(parser, std::move(rows));
}

Table read_table(const std::string& path, const TableOptions& options) {
  // The whole table is kept, so an input that never ends (a device) is refused up front; anything else is read in
  // chunks, and a row over the limit or invalid UTF-8 stops the read where it is.
  require_file_not_directory_or_device(path);
  TableStream stream(path, options);
  std::vector<TableRow> rows;
  TableRow row;
  while (stream.next(row)) rows.push_back(std::move(row));
  return gather(stream.parser(), std::move(rows));
}

}  // namespace accent
