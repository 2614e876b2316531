// data/table.h — read a CSV / TSV / raw-TSV / JSON Lines / JSON file into a table of string cells.
//
// The generic reader behind read_dataset() and any tool that takes a user file (e.g. `accent predict --input`).
// Cells are the strings pandas would give with `pd.read_csv(path, sep=..., dtype=str, keep_default_na=False)`:
// nothing stripped, nothing converted, empty fields are "" (see data/delimited.h for the tokenizer rules).
//
// Formats (TableOptions::format; "auto" picks by extension):
//   csv      (.csv)          sep=','  pandas rules, header row by default
//   tsv      (.tsv)          sep='\t' pandas rules (quotes are special in TSV too), header row by default
//   tsv-raw  (.txt)          one row per '\n'-terminated line (a trailing '\r' is dropped), split at the LAST tab
//                            into columns "text" and "label"; quotes are plain text; no header by default. This is
//                            the right reading of the UCI sentiment files, whose unbalanced quotes make pandas merge
//                            lines (748 rows instead of 1000).
//   jsonl    (.jsonl .ndjson) one JSON object per line; blank lines skipped (counted)
//   json     (.json)         a JSON array of objects, or JSON Lines if the file does not start with '['
// For JSON formats the columns are the keys in first-seen order; a string cell is the string, null or a missing
// key is "", any other value is its compact JSON text (e.g. 3, 0.5, ["a","b"]); the parsed objects are kept in
// Table::records so label readers can see the JSON types.
//
// Header (csv/tsv): names as pandas gives them — an empty name becomes "Unnamed: <i>", duplicates are renamed
// "a.1", "a.2", ... skipping names that already exist (pandas' C-parser mangling). Without a header the columns
// are named "0", "1", ... (pandas header=None numbers them).
//
// Encoding: UTF-8; a leading BOM is removed. Invalid UTF-8 is an error naming file:line:column, unless
// replace_invalid_utf8 is set: then each bad sequence becomes U+FFFD (Python's "replace") and is counted.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace accent {

struct TableOptions {
  std::string format = "auto";     // auto | csv | tsv | tsv-raw | jsonl | json
  std::optional<bool> has_header;  // unset: true for csv/tsv, false for tsv-raw; ignored for JSON
  bool quoting = true;             // csv/tsv: false = pandas quoting=csv.QUOTE_NONE ('"' is plain text)
  bool replace_invalid_utf8 = false;
};

struct Table {
  std::string path;
  std::string format;                          // the resolved format
  std::vector<std::string> columns;            // (C)
  std::vector<std::vector<std::string>> rows;  // (R, C): every row has exactly C cells
  std::vector<int64_t> lines;                  // (R): 1-based line where the row starts (JSON array: element index)
  std::vector<nlohmann::ordered_json> records;         // (R) JSON formats only: the row's object
  bool has_header = false;
  bool lines_are_records = false;              // json array: `lines` holds 1-based element numbers
  // Counts for the read summary.
  int64_t blank_lines_skipped = 0;             // blank / whitespace-only lines (pandas skip_blank_lines)
  int64_t padded_rows = 0;                     // rows with fewer fields than the header, padded with ""
  int64_t invalid_utf8_replaced = 0;           // bad sequences replaced by U+FFFD
  int64_t invalid_utf8_lines = 0;              // distinct lines that had one

  // Index of the column, or -1.
  int64_t column_index(const std::string& name) const;
  // Index of the column; throws accent::Error "<path>: no <role> column '<name>'; columns found: ..." otherwise.
  size_t require_column(const std::string& name, const std::string& role) const;
  // "path:line" (or "path: record k") for the row, for messages.
  std::string where(size_t row) const;
};

// Resolves "auto" from the file extension; throws on an unknown extension or format name.
std::string resolve_table_format(const std::string& path, const std::string& format);

Table read_table(const std::string& path, const TableOptions& options);
// Same, from bytes already in memory; `path` names the source in messages and picks the format when "auto".
Table parse_table(std::string_view bytes, const std::string& path, const TableOptions& options);

// Throws accent::Error "<path>:1: no <role> column '<name>'; columns found: ..." (`numbered_columns`: the file was read
// without a header, said as a hint; `lines_are_records`: a JSON array, no line to name).
[[noreturn]] void fail_missing_column(const std::string& path, const std::vector<std::string>& columns,
                                      const std::string& name, const std::string& role, bool numbered_columns,
                                      bool lines_are_records);

// pandas' header names: "Unnamed: i" for empty names, then duplicate mangling (named columns first).
std::vector<std::string> pandas_header_names(std::vector<std::string> raw);

}  // namespace accent
