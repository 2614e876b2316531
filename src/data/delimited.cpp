#include "data/delimited.h"

#include <algorithm>

#include "core/error.h"

namespace accent {

LineIndex::LineIndex(std::string_view data) : data_(data) {
  starts_.push_back(0);
  for (size_t i = 0; i < data.size(); ++i) {
    if (data[i] == '\n') {
      starts_.push_back(i + 1);
    } else if (data[i] == '\r') {
      if (i + 1 < data.size() && data[i + 1] == '\n') ++i;
      starts_.push_back(i + 1);
    }
  }
}

int64_t LineIndex::line(size_t offset) const {
  auto it = std::upper_bound(starts_.begin(), starts_.end(), offset);
  return static_cast<int64_t>(it - starts_.begin());
}

int64_t LineIndex::column(size_t offset) const {
  const size_t start = starts_[static_cast<size_t>(line(offset) - 1)];
  int64_t col = 1;
  for (size_t i = start; i < offset && i < data_.size(); ++i)
    if ((static_cast<unsigned char>(data_[i]) & 0xC0) != 0x80) ++col;  // count code point lead bytes
  return col;
}

namespace {

// The states of pandas' tokenizer.c that the default options reach.
enum class State {
  StartRecord,     // at the beginning of a line
  WhitespaceLine,  // line began with ' '/'\t': blank if only those follow, else re-read from the line start
  StartField,      // expecting a field
  InField,         // in an unquoted field
  InQuotedField,   // inside "..."
  QuoteInQuoted,   // saw '"' inside a quoted field: "" -> '"', or the field's quoted part ended
  EatCrnl,         // saw \r ending a row: \n completes it
  EatCrnlNop,      // saw \r on a blank line
};

class Tokenizer {
 public:
  Tokenizer(std::string_view data, const DelimitedOptions& options, const std::string& path, const LineIndex& lines)
      : data_(data), opt_(options), path_(path), lines_(lines) {}

  DelimitedResult run() {
    size_t i = 0;
    const size_t n = data_.size();
    while (i < n) {
      const char c = data_[i];
      switch (state_) {
        case State::WhitespaceLine:
          if (c == '\n') {
            ++result_.blank_lines_skipped;
            state_ = State::StartRecord;
          } else if (c == '\r') {
            ++result_.blank_lines_skipped;
            state_ = State::EatCrnlNop;
          } else if (!is_blank_char(c)) {
            // Not a blank line after all: parse it from its first character.
            i = line_start_;
            begin_row(i);
            continue;
          }
          ++i;
          break;
        case State::StartRecord:
          if (c == '\n') {  // blank line: skipped
            ++result_.blank_lines_skipped;
            ++i;
          } else if (c == '\r') {
            ++result_.blank_lines_skipped;
            state_ = State::EatCrnlNop;
            ++i;
          } else if (is_blank_char(c)) {
            line_start_ = i;
            state_ = State::WhitespaceLine;
            ++i;
          } else {
            begin_row(i);  // re-read c as the start of a field
          }
          break;
        case State::StartField:
          if (c == '\n') {
            end_field();
            end_row();
          } else if (c == '\r') {
            end_field();
            state_ = State::EatCrnl;
          } else if (is_quote(c)) {
            quote_offset_ = i;
            state_ = State::InQuotedField;
          } else if (c == opt_.delimiter) {
            end_field();  // empty field
          } else {
            field_.push_back(c);
            state_ = State::InField;
          }
          ++i;
          break;
        case State::InField:
          if (c == '\n') {
            end_field();
            end_row();
          } else if (c == '\r') {
            end_field();
            state_ = State::EatCrnl;
          } else if (c == opt_.delimiter) {
            end_field();
            state_ = State::StartField;
          } else {
            field_.push_back(c);
          }
          ++i;
          break;
        case State::InQuotedField:
          if (is_quote(c)) {
            state_ = State::QuoteInQuoted;
          } else {
            field_.push_back(c);
          }
          ++i;
          break;
        case State::QuoteInQuoted:
          if (is_quote(c)) {  // "" inside quotes is one "
            field_.push_back(c);
            state_ = State::InQuotedField;
          } else if (c == opt_.delimiter) {
            end_field();
            state_ = State::StartField;
          } else if (c == '\n') {
            end_field();
            end_row();
          } else if (c == '\r') {
            end_field();
            state_ = State::EatCrnl;
          } else {  // text after the closing quote is kept: "ab"cd -> abcd
            field_.push_back(c);
            state_ = State::InField;
          }
          ++i;
          break;
        case State::EatCrnl:
          if (c == '\n') {
            end_row();
            ++i;
          } else {
            // A lone \r ended the row; c starts the next one (a delimiter here starts it with an empty field).
            end_row();
            if (c == opt_.delimiter) begin_row(i);
          }
          break;
        case State::EatCrnlNop:
          // pandas: a \n completes the \r\n; a delimiter is consumed (quirk); anything else is re-read.
          state_ = State::StartRecord;
          if (c == '\n' || c == opt_.delimiter) ++i;
          break;
      }
    }
    // End of input, as pandas' parser_handle_eof.
    switch (state_) {
      case State::WhitespaceLine:
        ++result_.blank_lines_skipped;
        break;
      case State::StartRecord:
      case State::EatCrnlNop:
        break;
      case State::InQuotedField:
        fail(path_, ":", lines_.line(quote_offset_), ":", lines_.column(quote_offset_),
             ": unterminated quoted field: the '\"' opened here is never closed before the end of the file (a '\"' "
             "inside a quoted field must be doubled as \"\"; for files whose quotes are plain text, read with "
             "quoting off)");
      case State::StartField:
      case State::InField:
      case State::QuoteInQuoted:
        end_field();
        end_row();
        break;
      case State::EatCrnl:
        end_row();
        break;
    }
    return std::move(result_);
  }

 private:
  bool is_quote(char c) const { return opt_.quoting && c == '"'; }
  // ' ' and '\t' make a line blank unless they are the delimiter (pandas IS_WHITESPACE && c != delimiter).
  bool is_blank_char(char c) const { return (c == ' ' || c == '\t') && c != opt_.delimiter; }

  void begin_row(size_t offset) {
    row_.offset = offset;
    state_ = State::StartField;
  }
  void end_field() {
    row_.fields.push_back(std::move(field_));
    field_.clear();
  }
  void end_row() {
    const size_t got = row_.fields.size();
    if (result_.rows.empty()) {
      expected_ = got;
    } else if (got > expected_) {
      fail(path_, ":", lines_.line(row_.offset), ": expected ", expected_, " fields (like ",
           "the first row) but this row has ", got,
           "; quote fields that contain the delimiter, or check the separator");
    } else if (got < expected_) {
      row_.fields.resize(expected_);  // a short row is padded with empty fields, like pandas
      ++result_.padded_rows;
    }
    result_.rows.push_back(std::move(row_));
    row_ = DelimitedRow{};
    state_ = State::StartRecord;
  }

  std::string_view data_;
  DelimitedOptions opt_;
  const std::string& path_;
  const LineIndex& lines_;
  State state_ = State::StartRecord;
  DelimitedResult result_;
  DelimitedRow row_;
  std::string field_;
  size_t expected_ = 0;
  size_t line_start_ = 0;
  size_t quote_offset_ = 0;
};

}  // namespace

DelimitedResult tokenize_delimited(std::string_view data, const DelimitedOptions& options,
                                             const std::string& path, const LineIndex& lines) {
  ACCENT_CHECK(options.delimiter != '"' && options.delimiter != '\n' && options.delimiter != '\r',
               "invalid delimiter for ", path);
  return Tokenizer(data, options, path, lines).run();
}

}  // namespace accent
