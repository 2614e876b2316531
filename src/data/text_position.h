// data/text_position.h — the (line, column) of a byte in text that arrives in pieces, for error messages.
#pragma once
#include <cstdint>

namespace accent {

// Lines end at \n, \r\n or a lone \r; columns count UTF-8 code points. Fed one byte at a time, it knows the
// (line, column) of the byte it was fed last, across pieces (a \r at the end of one piece and a \n at the start
// of the next are one line end).
class TextPosition {
 public:
  void advance(char c) {
    if (after_cr_ && c != '\n') new_line();  // the \r before was a lone one
    after_cr_ = false;
    if (line_ending_) new_line();
    line_ending_ = false;
    if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++column_;  // a code point's lead byte
    if (c == '\n') line_ending_ = true;
    else if (c == '\r') after_cr_ = true;
  }
  int64_t line() const { return line_; }      // of the last byte fed (1 before any)
  int64_t column() const { return column_; }  // of the last byte fed

 private:
  void new_line() {
    ++line_;
    column_ = 0;
  }
  int64_t line_ = 1, column_ = 0;
  bool after_cr_ = false, line_ending_ = false;
};

}  // namespace accent
