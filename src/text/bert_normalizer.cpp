// text/bert_normalizer.cpp — see bert_normalizer.h.
//
// ASCII is handled byte by byte from a 128-entry action table. Runs of non-ASCII code points are collected,
// cleaned and CJK-spaced, then decomposed (NFD needs the whole run for canonical ordering of marks; ASCII
// characters are starters, so a run never reorders across them), filtered and lowercased.
#include "text/bert_normalizer.h"

#include "text/unicode.h"

namespace accent::text {
namespace {

enum AsciiAction : uint8_t { kKeep, kDelete, kSpace };

AsciiAction ascii_clean_action(unsigned char c) {
  if (c == '\t' || c == '\n' || c == '\r' || c == ' ') return kSpace;
  if (c < 0x20 || c == 0x7F) return kDelete;  // Cc (0x0B and 0x0C are controls before they are whitespace)
  return kKeep;
}

}  // namespace

void BertNormalizer::normalize(std::string_view in, std::string& out) const {
  const bool clean = options_.clean_text;
  const bool chinese = options_.handle_chinese_chars;
  const bool strip = options_.strips_accents();
  const bool lower = options_.lowercase;
  std::u32string run, decomposed, finished;  // per call; small
  auto flush_run = [&]() {
    if (run.empty()) return;
    const std::u32string* chars = &run;
    if (strip) {
      decomposed.clear();
      append_nfd(run, decomposed);
      chars = &decomposed;
    }
    for (char32_t cp : *chars) {
      if (strip && (char_class(cp) & kMarkNonspacing)) continue;
      if (lower) {
        finished.clear();
        append_lowercase(finished, cp);
        for (char32_t c : finished) append_utf8(out, c);
      } else {
        append_utf8(out, cp);
      }
    }
    run.clear();
  };

  for (size_t i = 0; i < in.size();) {
    const unsigned char b = static_cast<unsigned char>(in[i]);
    if (b < 0x80) {
      flush_run();
      ++i;
      char c = static_cast<char>(b);
      if (clean) {
        const AsciiAction action = ascii_clean_action(b);
        if (action == kDelete) continue;
        if (action == kSpace) c = ' ';
      }
      if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      out.push_back(c);
      continue;
    }
    const Utf8Step step = decode_utf8(in, i);
    i += step.length;
    char32_t cp = step.cp;
    const uint8_t cls = char_class(cp);
    if (clean) {
      if (cp == 0xFFFD || (cls & kControl)) continue;
      if (cls & kWhiteSpace) cp = ' ';
    }
    if (cp == ' ') {
      flush_run();
      out.push_back(' ');
      continue;
    }
    if (chinese && (cls & kCjk)) {
      flush_run();
      out.push_back(' ');
      run.push_back(cp);  // compatibility ideographs (U+F900..) still go through NFD and lowercase
      flush_run();
      out.push_back(' ');
      continue;
    }
    run.push_back(cp);
  }
  flush_run();
}

}  // namespace accent::text
