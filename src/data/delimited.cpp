#include "data/delimited.h"

#include "core/error.h"

namespace accent {

// The states of pandas' tokenizer.c that the default options reach.
enum class DelimitedReader::State {
  StartRecord,     // at the beginning of a line
  WhitespaceLine,  // line began with ' '/'\t': blank if only those follow, else it is read from its first character
  StartField,      // expecting a field
  InField,         // in an unquoted field
  InQuotedField,   // inside "..."
  QuoteInQuoted,   // saw '"' inside a quoted field: "" -> '"', or the field's quoted part ended
  EatCrnl,         // saw \r ending a row: \n completes it
  EatCrnlNop,      // saw \r on a blank line
};

DelimitedReader::DelimitedReader(const DelimitedOptions& options, std::string path)
    : opt_(options), path_(std::move(path)), state_(State::StartRecord) {
  ACCENT_CHECK(opt_.delimiter != '"' && opt_.delimiter != '\n' && opt_.delimiter != '\r',
               "invalid delimiter for ", path_);
}

void DelimitedReader::feed(std::string_view piece, std::vector<DelimitedRow>& rows) {
  for (const char c : piece) {
    pos_.advance(c);
    step(c, rows);
  }
}

// One byte through the state machine. A state that hands the byte on to another state re-dispatches it
// (`continue`); every other case consumes it (`return`).
void DelimitedReader::step(char c, std::vector<DelimitedRow>& rows) {
  for (;;) {
    switch (state_) {
      case State::WhitespaceLine:
        if (c == '\n' || c == '\r') {
          ++blank_lines_skipped_;
          blank_prefix_.clear();
          state_ = c == '\n' ? State::StartRecord : State::EatCrnlNop;
        } else if (is_blank_char(c)) {
          ACCENT_CHECK(blank_prefix_.size() < opt_.max_row_bytes, path_, ":", blank_prefix_line_,
                       ": line longer than ", opt_.max_row_bytes, " bytes, the limit for one row");
          blank_prefix_.push_back(c);
        } else {
          // Not a blank line after all: the row starts at the line's first character. Read from there, the
          // blank characters make the first field unquoted text (StartField → InField), so they are its start.
          begin_row(blank_prefix_line_);
          row_bytes_ = blank_prefix_.size();
          field_ = std::move(blank_prefix_);
          blank_prefix_.clear();
          state_ = State::InField;
          continue;
        }
        return;
      case State::StartRecord:
        if (c == '\n') {  // blank line: skipped
          ++blank_lines_skipped_;
        } else if (c == '\r') {
          ++blank_lines_skipped_;
          state_ = State::EatCrnlNop;
        } else if (is_blank_char(c)) {
          blank_prefix_line_ = pos_.line();
          blank_prefix_.assign(1, c);
          state_ = State::WhitespaceLine;
        } else {
          begin_row(pos_.line());
          continue;  // c starts the first field
        }
        return;
      case State::StartField:
        if (ends_field(c, rows)) {
          // a delimiter here ended an empty field
        } else if (is_quote(c)) {
          quote_line_ = pos_.line();
          quote_column_ = pos_.column();
          state_ = State::InQuotedField;
        } else {
          push_char(c);
          state_ = State::InField;
        }
        return;
      case State::InField:
        if (!ends_field(c, rows)) push_char(c);
        return;
      case State::InQuotedField:
        if (is_quote(c)) state_ = State::QuoteInQuoted;
        else push_char(c);
        return;
      case State::QuoteInQuoted:
        if (is_quote(c)) {  // "" inside quotes is one "
          push_char(c);
          state_ = State::InQuotedField;
        } else if (!ends_field(c, rows)) {  // text after the closing quote is kept: "ab"cd -> abcd
          push_char(c);
          state_ = State::InField;
        }
        return;
      case State::EatCrnl:
        end_row(rows);
        if (c == '\n') return;
        // A lone \r ended the row; c starts the next one (a delimiter here starts it with an empty field).
        if (c == opt_.delimiter) begin_row(pos_.line());
        continue;
      case State::EatCrnlNop:
        // pandas: a \n completes the \r\n; a delimiter is consumed (quirk); anything else is read again.
        state_ = State::StartRecord;
        if (c == '\n' || c == opt_.delimiter) return;
        continue;
    }
  }
}

// A delimiter or a line end after (or instead of) a field's characters ends the field, and a line end the row.
// Returns false when `c` is neither, so the caller takes it as field text.
bool DelimitedReader::ends_field(char c, std::vector<DelimitedRow>& rows) {
  if (c == '\n') {
    end_field();
    end_row(rows);
  } else if (c == '\r') {
    end_field();
    state_ = State::EatCrnl;  // a \n next completes \r\n; anything else starts the next row
  } else if (c == opt_.delimiter) {
    end_field();
    state_ = State::StartField;
  } else {
    return false;
  }
  return true;
}

// End of input, as pandas' parser_handle_eof.
void DelimitedReader::finish(std::vector<DelimitedRow>& rows) {
  switch (state_) {
    case State::WhitespaceLine:
      ++blank_lines_skipped_;
      blank_prefix_.clear();
      break;
    case State::StartRecord:
    case State::EatCrnlNop:
      break;
    case State::InQuotedField:
      fail(path_, ":", quote_line_, ":", quote_column_,
           ": unterminated quoted field: the '\"' opened here is never closed before the end of the file (a '\"' "
           "inside a quoted field must be doubled as \"\"; for files whose quotes are plain text, read with "
           "quoting off)");
    case State::StartField:
    case State::InField:
    case State::QuoteInQuoted:
      end_field();
      end_row(rows);
      break;
    case State::EatCrnl:
      end_row(rows);
      break;
  }
  state_ = State::StartRecord;
}

void DelimitedReader::begin_row(int64_t line) {
  row_.line = line;
  row_bytes_ = 0;
  state_ = State::StartField;
}

void DelimitedReader::push_char(char c) {
  if (++row_bytes_ > opt_.max_row_bytes) {
    const bool quoted = state_ == State::InQuotedField || state_ == State::QuoteInQuoted;
    fail(path_, ":", row_.line, ": row longer than ", opt_.max_row_bytes, " bytes, the limit for one row",
         quoted ? " (inside a quoted field opened at line " + std::to_string(quote_line_) +
                      ": is a closing '\"' missing?)"
                : " (is this a delimited text file?)");
  }
  field_.push_back(c);
}

void DelimitedReader::end_field() {
  ++row_bytes_;  // the separator
  if (rows_read_ > 0 && row_.fields.size() >= expected_) {
    ++extra_fields_;  // counted for the message, not kept: a line of a million delimiters stays small
  } else {
    ACCENT_CHECK(row_.fields.size() < opt_.max_fields, path_, ":", row_.line, ": more than ", opt_.max_fields,
                 " fields in one row (is the separator right?)");
    row_.fields.push_back(std::move(field_));
  }
  field_.clear();
}

void DelimitedReader::end_row(std::vector<DelimitedRow>& rows) {
  const size_t got = row_.fields.size();
  if (rows_read_ == 0) {
    expected_ = got;
  } else if (extra_fields_ > 0) {
    fail(path_, ":", row_.line, ": expected ", expected_, " fields (like the first row) but this row has ",
         expected_ + extra_fields_, "; quote fields that contain the delimiter, or check the separator");
  } else if (got < expected_) {
    row_.fields.resize(expected_);  // a short row is padded with empty fields, like pandas
    ++padded_rows_;
  }
  ++rows_read_;
  rows.push_back(std::move(row_));
  row_ = DelimitedRow{};
  row_bytes_ = 0;
  state_ = State::StartRecord;
}

}  // namespace accent
