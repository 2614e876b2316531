#include "data/utf8_stream.h"

#include <sstream>

#include "core/error.h"
#include "data/utf8_check.h"

namespace accent {

Utf8Stream::Utf8Stream(std::string path, bool replace, std::string hint)
    : path_(std::move(path)), hint_(std::move(hint)), replace_(replace) {}

void Utf8Stream::feed(std::string_view piece, std::string& out) {
  std::string joined;
  std::string_view text = piece;
  if (!held_.empty()) {
    joined = held_ + std::string(piece);
    held_.clear();
    text = joined;
  }
  // A lead byte among the last three whose sequence is a valid prefix running to the end may be completed by the
  // next piece: hold it back.
  const size_t n = text.size();
  for (size_t k = n; k > 0 && k + 3 >= n; --k) {
    const auto b = static_cast<unsigned char>(text[k - 1]);
    if (b < 0xC2 || b > 0xF4) continue;
    size_t bad = 0;
    if (utf8_sequence_length(text, k - 1, &bad) == 0 && k - 1 + bad == n) {
      held_.assign(text.substr(k - 1));
      text = text.substr(0, k - 1);
    }
    break;
  }
  check(text, out);
}

void Utf8Stream::finish(std::string& out) {
  const std::string rest = std::move(held_);
  held_.clear();
  check(rest, out);
}

void Utf8Stream::check(std::string_view text, std::string& out) {
  size_t i = 0;
  while (i < text.size()) {
    // Runs of ASCII and well-formed sequences are copied as they are.
    size_t bad = 0;
    const size_t len = utf8_sequence_length(text, i, &bad);
    if (len > 0) {
      for (size_t k = 0; k < len; ++k) position_.advance(text[i + k]);
      out.append(text.substr(i, len));
      i += len;
      continue;
    }
    position_.advance(text[i]);
    if (!replace_) {
      std::ostringstream byte;
      byte << std::hex << static_cast<int>(static_cast<unsigned char>(text[i]));
      // The column counts code point lead bytes; a stray continuation byte is a column of its own here.
      const bool lead = (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80;
      fail(path_, ":", position_.line(), ":", position_.column() + (lead ? 0 : 1), ": invalid UTF-8 (byte 0x", byte.str(), ")",
           hint_);
    }
    for (size_t k = 1; k < bad; ++k) position_.advance(text[i + k]);
    ++replaced_;
    if (position_.line() != last_replaced_line_) {
      ++replaced_lines_;
      last_replaced_line_ = position_.line();
    }
    out.append("\xEF\xBF\xBD");
    i += bad;
  }
}

}  // namespace accent
