// data/delimited.h — a CSV/TSV tokenizer that splits bytes into rows and fields exactly like pandas' C parser
// (`pd.read_csv(engine="c")` with its defaults: quotechar '"', doublequote=True, no escapechar,
// skipinitialspace=False, skip_blank_lines=True, line terminators \n, \r\n and lone \r).
//
// The rules, as in pandas/_libs/src/parser/tokenizer.c (pandas 1.5):
//  - A field that STARTS with '"' is quoted: delimiters, \r and \n inside are data; "" inside is one '"'.
//    After the closing quote, further characters are appended to the field verbatim (`"ab"cd` -> `abcd`).
//  - A '"' anywhere else is an ordinary character (`ab"c` stays `ab"c`; ` "x" ` keeps its spaces and quotes).
//  - Spaces are never stripped (leading or trailing).
//  - Blank lines are skipped, and so are lines made only of ' ' and '\t' (when that character is not the
//    delimiter). A line of delimiters (",,") is a row of empty fields, not blank.
//  - After a blank lone-\r line, a delimiter that begins the next line is swallowed (pandas' EAT_CRNL_NOP quirk:
//    "a,b\r\r,x" gives the row ["x", ""]); reproduced so the cells agree with pandas.
//  - A row with fewer fields than the row before it is padded with empty fields; more fields than the header
//    (or, without a header, than the first row) is an error (pandas: "Expected N fields in line L, saw M").
//  - End of file inside a quoted field is an error naming the line and column of the opening quote.
// One deliberate difference: when a line ended by a lone \r is followed by a line that starts with ' ' or '\t'
// (and is not blank), pandas' whitespace-line backtrack searches for the previous \n and re-reads the lines in
// between (how far back depends on its internal chunking; it can also fail with "Buffer overflow caught").
// Here such a line is read from its own first character, as with \n endings.
// `quoting = false` is pandas' quoting=csv.QUOTE_NONE: '"' is never special (use it for files whose quotes are
// unbalanced text, e.g. the UCI sentiment files).
// The input must already have its UTF-8 BOM removed; it is split on bytes, so any ASCII delimiter is safe in
// UTF-8 text.
// Streaming: DelimitedReader takes the bytes in pieces of any size (a row may span pieces) and hands out each row
// as soon as its end is seen, so a file or a pipe is read in bounded memory; a row longer than max_row_bytes is an
// error naming its line, so input without line ends (/dev/zero, random bytes) stops early.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "data/text_position.h"

namespace accent {

struct DelimitedOptions {
  char delimiter = ',';
  bool quoting = true;                          // false = QUOTE_NONE
  size_t max_row_bytes = size_t{16} << 20;      // one row's bytes (fields and separators); more is an error
  size_t max_fields = size_t{1} << 16;          // fields in one row; more is an error
};

struct DelimitedRow {
  std::vector<std::string> fields;
  int64_t line = 0;  // 1-based line where the row's first field starts
};

class DelimitedReader {
 public:
  // `path` only names the input in error messages.
  DelimitedReader(const DelimitedOptions& options, std::string path);
  // Tokenizes the next piece; rows completed by it are appended to `rows`.
  void feed(std::string_view piece, std::vector<DelimitedRow>& rows);
  // End of input: the last row (if unterminated) is appended; an open quoted field is an error.
  void finish(std::vector<DelimitedRow>& rows);

  int64_t blank_lines_skipped() const { return blank_lines_skipped_; }  // empty or whitespace-only lines
  int64_t padded_rows() const { return padded_rows_; }  // rows shorter than the first row, padded with ""
  int64_t rows_read() const { return rows_read_; }

 private:
  enum class State;
  void step(char c, std::vector<DelimitedRow>& rows);
  bool is_quote(char c) const { return opt_.quoting && c == '"'; }
  // ' ' and '\t' make a line blank unless they are the delimiter (pandas IS_WHITESPACE && c != delimiter).
  bool is_blank_char(char c) const { return (c == ' ' || c == '\t') && c != opt_.delimiter; }
  bool ends_field(char c, std::vector<DelimitedRow>& rows);
  void begin_row(int64_t line);
  void push_char(char c);
  void end_field();
  void end_row(std::vector<DelimitedRow>& rows);

  DelimitedOptions opt_;
  std::string path_;
  State state_;
  TextPosition pos_;
  DelimitedRow row_;
  std::string field_;
  size_t row_bytes_ = 0;       // bytes of the row so far, for the limit
  std::string blank_prefix_;   // the ' '/'\t' that began the current line (it may yet turn out not blank)
  int64_t blank_prefix_line_ = 0;
  int64_t quote_line_ = 0, quote_column_ = 0;  // where the open quoted field began
  size_t expected_ = 0;        // fields per row, set by the first row
  size_t extra_fields_ = 0;    // fields of the current row beyond expected_
  int64_t rows_read_ = 0, blank_lines_skipped_ = 0, padded_rows_ = 0;
};

}  // namespace accent
