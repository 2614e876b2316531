// text/bert_normalizer.cpp — see bert_normalizer.h.
//
// ASCII is handled byte by byte from a 128-entry action table. Runs of non-ASCII code points are collected,
// cleaned and CJK-spaced, then decomposed (NFD needs the whole run for canonical ordering of marks; ASCII
// characters are starters, so a run never reorders across them), filtered and lowercased.
#include "text/bert_normalizer.h"

#include <algorithm>

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

void BertNormalizer::normalize(std::string_view in, std::string& out, std::vector<Span>* alignment) const {
  const bool clean = options_.clean_text;
  const bool chinese = options_.handle_chinese_chars;
  const bool strip = options_.strips_accents();
  const bool lower = options_.lowercase;
  std::u32string run, decomposed, finished;  // per call; small
  std::vector<Span> run_spans;               // (alignment only) the input range of each code point of `run`
  std::vector<uint8_t> inserted;             // (alignment only) NFD's per-code-point "inserted" flags
  auto emit = [&](char32_t cp, Span from) {
    const size_t before = out.size();
    append_utf8(out, cp);
    if (alignment) alignment->insert(alignment->end(), out.size() - before, from);
  };
  auto flush_run = [&]() {
    if (run.empty()) return;
    const std::u32string* chars = &run;
    if (strip) {
      decomposed.clear();
      inserted.clear();
      append_nfd(run, decomposed, alignment ? &inserted : nullptr);
      chars = &decomposed;
    }
    size_t replaced = 0;  // input code points consumed by "replacing" output code points
    Span from{0, 0};
    for (size_t k = 0; k < chars->size(); ++k) {
      const char32_t cp = (*chars)[k];
      if (alignment) {
        if (!strip || !inserted[k]) from = run_spans[std::min(replaced++, run_spans.size() - 1)];
        else if (replaced == 0) from = alignment->empty() ? Span{0, 0} : alignment->back();
      }
      if (strip && (char_class(cp) & kMarkNonspacing)) continue;
      if (lower) {
        finished.clear();
        append_lowercase(finished, cp);
        for (char32_t c : finished) emit(c, from);
      } else {
        emit(cp, from);
      }
    }
    run.clear();
    run_spans.clear();
  };

  for (size_t i = 0; i < in.size();) {
    const unsigned char b = static_cast<unsigned char>(in[i]);
    if (b < 0x80) {
      flush_run();
      const Span from{static_cast<uint32_t>(i), static_cast<uint32_t>(i + 1)};
      ++i;
      char c = static_cast<char>(b);
      if (clean) {
        const AsciiAction action = ascii_clean_action(b);
        if (action == kDelete) continue;
        if (action == kSpace) c = ' ';
      }
      if (lower && c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
      out.push_back(c);
      if (alignment) alignment->push_back(from);
      continue;
    }
    const Utf8Step step = decode_utf8(in, i);
    const Span from{static_cast<uint32_t>(i), static_cast<uint32_t>(i + step.length)};
    i += step.length;
    char32_t cp = step.cp;
    const uint8_t cls = char_class(cp);
    if (clean) {
      if (cp == 0xFFFD || (cls & kControl)) continue;
      if (cls & kWhiteSpace) cp = ' ';
    }
    if (cp == ' ') {
      flush_run();
      emit(' ', from);
      continue;
    }
    if (chinese && (cls & kCjk)) {
      flush_run();
      emit(' ', from);
      run.push_back(cp);  // compatibility ideographs (U+F900..) still go through NFD and lowercase
      if (alignment) run_spans.push_back(from);
      flush_run();
      emit(' ', from);
      continue;
    }
    run.push_back(cp);
    if (alignment) run_spans.push_back(from);
  }
  flush_run();
}

}  // namespace accent::text
