// data/table_stream.h — a table file (CSV / TSV / raw TSV / JSON Lines / JSON) read row by row as its bytes arrive.
//
// Why: reading a whole input before parsing it let `data /dev/zero`, a named pipe or a file of random bytes grow
// memory without bound, and `predict -i rows.jsonl` answered nothing until the input ended. Here the bytes go
// through three stages, each holding at most one unfinished piece:
//   BOM strip → UTF-8 check (data/utf8_stream.h) → the format's row splitter
// and a row comes out as soon as its end is seen. One row (a CSV record, a JSON Lines line) may be at most
// kMaxRowBytes; more is an error naming its line, so input without line ends stops early. A JSON *array* can only
// be parsed whole, so it is capped at kMaxJsonArrayBytes (JSON Lines streams and has no cap).
//
// Cells and columns are those of data/table.h (its comment gives the rules per format). For JSON formats the
// columns grow as new keys appear: a row has cells for the columns known when it was read (fewer than a later
// row may have); read_table() pads them at the end.
#pragma once
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "data/table.h"

namespace accent {

struct TableRow {
  std::vector<std::string> cells;  // (C_now): one per column known when the row was read
  nlohmann::ordered_json record;   // JSON formats: the row's object (null otherwise)
  int64_t line = 0;                // 1-based line where the row starts (JSON array: element number)
};

// Push parser: bytes in (pieces of any size), rows out. Cutting the input differently gives the same rows.
class TableParser {
 public:
  static constexpr size_t kMaxRowBytes = size_t{16} << 20;        // one CSV record / one line
  static constexpr size_t kMaxJsonArrayBytes = size_t{256} << 20;  // a whole .json array
  static constexpr size_t kMaxColumns = size_t{1} << 16;

  // `path` names the input in messages and picks the format when options.format is "auto".
  TableParser(std::string path, const TableOptions& options);
  ~TableParser();
  void feed(std::string_view bytes, std::vector<TableRow>& rows);
  // End of input: the last unterminated row, or the whole JSON array; errors for an open quote or no rows at all.
  void finish(std::vector<TableRow>& rows);

  const std::string& path() const { return path_; }
  const std::string& format() const { return format_; }
  bool has_header() const { return has_header_; }
  bool lines_are_records() const { return json_array_; }  // rows are numbered by element, not line
  const std::vector<std::string>& columns() const { return columns_; }  // known so far
  // Index of the column among those known so far, or -1.
  int64_t column_index(const std::string& name) const;
  // The cell of column `name` in `row`, or an error naming the row: csv/tsv/tsv-raw: no such column (as
  // Table::require_column); JSON: this record has no such key (a null value is "", as in the table).
  const std::string& cell(const TableRow& row, const std::string& name, const std::string& role) const;
  // csv/tsv/tsv-raw: an error (as Table::require_column) when the columns have no `name`; JSON formats: nothing
  // (keys are checked per record, by cell()).
  void check_column(const std::string& name, const std::string& role) const;
  // "path:line" or "path: record k", for messages.
  std::string where(const TableRow& row) const;
  int64_t blank_lines_skipped() const;
  int64_t padded_rows() const;
  int64_t invalid_utf8_replaced() const;
  int64_t invalid_utf8_lines() const;

 private:
  class LineSplitter;
  void decode(std::string_view bytes, std::vector<TableRow>& rows);
  void parse_text(std::string_view text, std::vector<TableRow>& rows);
  void on_line(std::string_view line, int64_t line_no, std::vector<TableRow>& rows);
  void add_delimited_rows(std::vector<TableRow>& rows);
  void add_record(nlohmann::ordered_json obj, int64_t where, const std::string& what, std::vector<TableRow>& rows);

  std::string path_, format_;
  TableOptions options_;
  bool has_header_ = false;
  bool header_pending_ = false;
  std::vector<std::string> columns_;
  std::unordered_map<std::string, size_t> column_of_;
  // Stages (pimpl'd to keep data/delimited.h and data/utf8_stream.h out of this header's users).
  struct Stages;
  std::unique_ptr<Stages> s_;
  std::string head_;          // the first bytes, until it is known whether they are a BOM
  bool bom_checked_ = false;
  std::string text_;          // scratch: checked text of the current piece
  // json: undecided until the first non-blank character: '[' = an array (buffered whole), else JSON Lines.
  bool json_decided_ = false, json_array_ = false;
  std::string json_text_;     // json: the blank prefix while undecided, then the whole array
  int64_t raw_blank_lines_ = 0;
  int64_t rows_out_ = 0;
  bool any_row_ = false;      // csv/tsv: a row (header included) was read
};

// Pull reader over a file: opens `path` (a regular file, a named pipe, ...; a directory is an error) and hands out
// rows as they are read in chunks of up to 1 MiB. ready() tells whether next() would return without waiting for
// more input, so a caller can answer what it has instead of blocking on a slow writer.
class TableStream {
 public:
  TableStream(const std::string& path, const TableOptions& options);
  ~TableStream();
  TableStream(const TableStream&) = delete;
  TableStream& operator=(const TableStream&) = delete;
  // The next row; false at the end of the input.
  bool next(TableRow& row);
  bool ready();
  const TableParser& parser() const { return parser_; }

 private:
  bool read_more();  // one read(2) into the parser; false once the input has ended

  int fd_ = -1;
  TableParser parser_;
  std::vector<TableRow> rows_;
  size_t next_row_ = 0;
  bool ended_ = false;
  std::string buf_;
};

}  // namespace accent
