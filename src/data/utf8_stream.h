// data/utf8_stream.h — UTF-8 checked as it streams: pieces of bytes in, well-formed text out.
//
// Each ill-formed sequence is either an error naming path:line:column (the first one) or, with `replace`, one
// U+FFFD as Python's bytes.decode("utf-8", "replace") gives it (data/utf8_check.h), counted. A sequence split
// between two pieces is held back (at most 3 bytes) until the piece that completes it, so the result is the same
// for any way of cutting the input.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "data/text_position.h"

namespace accent {

class Utf8Stream {
 public:
  // `path` names the input in errors; `hint` is appended to the error (how to replace instead).
  Utf8Stream(std::string path, bool replace, std::string hint);
  // Appends the checked text of `piece` to `out` (less a held-back incomplete sequence at its end).
  void feed(std::string_view piece, std::string& out);
  // End of input: a held-back sequence was truncated, so it is ill-formed.
  void finish(std::string& out);

  int64_t replaced() const { return replaced_; }                      // U+FFFD written
  int64_t lines_with_replacements() const { return replaced_lines_; }  // distinct lines that had one

 private:
  void check(std::string_view text, std::string& out);

  std::string path_, hint_;
  bool replace_;
  std::string held_;  // the start of a sequence whose end has not arrived
  TextPosition position_;
  int64_t replaced_ = 0, replaced_lines_ = 0, last_replaced_line_ = 0;
};

}  // namespace accent
