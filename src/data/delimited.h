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
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace accent {

struct DelimitedOptions {
  char delimiter = ',';
  bool quoting = true;  // false = QUOTE_NONE
};

struct DelimitedRow {
  std::vector<std::string> fields;
  size_t offset = 0;  // byte offset in the input where the row's first field starts
};

// Maps byte offsets to 1-based (line, column) for messages. Lines end at \n, \r\n or a lone \r; columns count
// UTF-8 code points.
class LineIndex {
 public:
  explicit LineIndex(std::string_view data);
  int64_t line(size_t offset) const;
  int64_t column(size_t offset) const;
  int64_t num_lines() const { return static_cast<int64_t>(starts_.size()); }

 private:
  std::string_view data_;
  std::vector<size_t> starts_;  // byte offset where each line starts
};

struct DelimitedResult {
  std::vector<DelimitedRow> rows;
  int64_t blank_lines_skipped = 0;  // empty or whitespace-only lines
  int64_t padded_rows = 0;          // rows shorter than the first row, padded with ""
};

// Tokenizes `data`. `path` and `lines` only name the place in error messages. The first row (the header, when
// there is one) sets the expected field count.
DelimitedResult tokenize_delimited(std::string_view data, const DelimitedOptions& options,
                                             const std::string& path, const LineIndex& lines);

}  // namespace accent
