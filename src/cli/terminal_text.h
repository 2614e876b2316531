// cli/terminal_text.h — text from input files made safe to print on a terminal.
//
// Why: error messages quote what they found (a label, a token, a line), and input files may hold raw bytes that are
// not UTF-8 or are terminal control characters (0xFF, ESC sequences). Printed as they are, they garble the terminal
// or hide the message. Here every ill-formed UTF-8 byte and every control character except newline and tab is
// written as \xHH, so the message stays readable and says exactly which bytes were there.
#pragma once
#include <cstdio>
#include <string>
#include <string_view>

#include "data/utf8_check.h"

namespace accent::cli {

inline std::string terminal_safe(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  auto escape = [&out](unsigned char b) {
    char hex[5];
    std::snprintf(hex, sizeof hex, "\\x%02X", b);
    out += hex;
  };
  for (size_t i = 0; i < s.size();) {
    const auto b = static_cast<unsigned char>(s[i]);
    const size_t len = utf8_sequence_length(s, i);
    if (len == 0) {  // ill-formed: escape this byte and look again from the next
      escape(b);
      ++i;
    } else if (len == 1 && ((b < 0x20 && b != '\n' && b != '\t') || b == 0x7F)) {
      escape(b);
      ++i;
    } else {
      out.append(s.substr(i, len));
      i += len;
    }
  }
  return out;
}

}  // namespace accent::cli
