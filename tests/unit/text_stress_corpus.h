// tests/unit/text_stress_corpus.h — a generated stress set for tokenizer parity: every Unicode general category
// (code points chosen by utf8proc's category, independent of accent's own tables), CJK range boundaries,
// combining-mark sequences, control characters, invalid UTF-8 (lone continuation bytes, truncated and overlong
// sequences, encoded surrogates, F5..FF), very long words and a random soup of fragments (contractions,
// whitespace variants, special-token strings, emoji, mixed scripts). Deterministic (fixed seed).
#pragma once
#include <utf8proc.h>

#include <random>
#include <string>
#include <vector>

namespace accent::testing {

inline void put_utf8(std::string& out, char32_t cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF) {  // surrogate: write its (invalid) 3-byte form
    out.push_back(static_cast<char>(0xED));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
    return;
  }
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

struct StressCorpus {
  std::vector<std::string> lines;
  size_t category_lines = 0, cjk_lines = 0, combining_lines = 0, control_lines = 0, invalid_utf8_lines = 0,
         long_word_lines = 0, soup_lines = 0;
};

inline StressCorpus make_stress_corpus() {
  StressCorpus sc;
  std::mt19937 rng(20240611);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  // Code points by general category (utf8proc numbering 0..29).
  std::vector<std::vector<char32_t>> by_category(30);
  for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) by_category[utf8proc_category(static_cast<int32_t>(cp))].push_back(cp);
  auto random_from = [&](int cat) { return by_category[cat][pick(by_category[cat].size())]; };

  // 1. Every general category, in lines of 24 code points with varied separators; Cn/Co/Cs sampled.
  for (int cat = 0; cat < 30; ++cat) {
    std::vector<char32_t> cps = by_category[cat];
    if (cps.empty()) continue;
    const size_t limit = cat == UTF8PROC_CATEGORY_CN ? 6000 : cat == UTF8PROC_CATEGORY_CO ? 3000
                         : cat == UTF8PROC_CATEGORY_CS ? 400 : cps.size();
    if (cps.size() > limit) {
      std::shuffle(cps.begin(), cps.end(), rng);
      cps.resize(limit);
    }
    for (size_t i = 0; i < cps.size(); i += 24) {
      std::string line;
      for (size_t k = i; k < cps.size() && k < i + 24; ++k) {
        const size_t style = (k / 24 + k) % 5;
        if (style == 1) line += ' ';
        if (style == 2) line += 'a';
        put_utf8(line, cps[k]);
        if (style == 3) line += "1 ";
      }
      sc.lines.push_back(line);
      ++sc.category_lines;
    }
  }
  // 2. CJK range boundaries (slow and fast ranges differ at U+2B820 / U+2B920).
  const char32_t bounds[] = {0x3400, 0x4DBF, 0x4E00, 0x9FFF, 0xF900, 0xFAFF, 0x20000, 0x2A6DF, 0x2A700, 0x2B73F,
                             0x2B740, 0x2B81F, 0x2B820, 0x2B91F, 0x2B920, 0x2CEAF, 0x2F800, 0x2FA1F, 0x3040, 0xAC00};
  for (char32_t b : bounds) {
    std::string line = "x";
    for (int d = -2; d <= 2; ++d) put_utf8(line, b + d), line += (d == 0 ? " " : "");
    line += "ab";
    sc.lines.push_back(line);
    ++sc.cjk_lines;
  }
  // 3. Base characters followed by 1..5 marks (Mn/Mc/Me) in random order: NFD ordering and accent stripping.
  const int marks[] = {UTF8PROC_CATEGORY_MN, UTF8PROC_CATEGORY_MC, UTF8PROC_CATEGORY_ME};
  const char32_t bases[] = {'a', 'E', 'o', 0xE9, 0xC5, 0x3A3, 0x438, 0x5D0, 0x627, 0x915, 0x1E9B, 0x212B, 0xAC00, 0x130};
  for (int i = 0; i < 2000; ++i) {
    std::string line;
    const int words = 1 + static_cast<int>(pick(6));
    for (int w = 0; w < words; ++w) {
      if (w) line += ' ';
      const int chars = 1 + static_cast<int>(pick(4));
      for (int c = 0; c < chars; ++c) {
        put_utf8(line, bases[pick(std::size(bases))]);
        const int n = static_cast<int>(pick(6));
        for (int m = 0; m < n; ++m)
          put_utf8(line, pick(3) == 0 ? char32_t(0x300 + pick(0x70)) : random_from(marks[pick(3)]));
      }
    }
    sc.lines.push_back(line);
    ++sc.combining_lines;
  }
  // 4. Control and space characters inside and between words.
  std::vector<char32_t> controls;
  for (char32_t c = 0; c < 0x20; ++c) controls.push_back(c);
  for (char32_t c = 0x7F; c <= 0xA0; ++c) controls.push_back(c);
  for (char32_t c : {0xAD, 0x180E, 0x200B, 0x200C, 0x200D, 0x200E, 0x2028, 0x2029, 0x202F, 0x205F, 0x2060, 0x3000,
                     0xFEFF, 0xFFFD, 0xFFF9, 0x1680, 0x2000, 0x200A, 0xE0001, 0x110BD, 0x13430})
    controls.push_back(c);
  for (int i = 0; i < 600; ++i) {
    std::string line = "word";
    for (int k = 0; k < 6; ++k) {
      put_utf8(line, controls[pick(controls.size())]);
      line += pick(2) ? "Ab" : "";
      if (pick(3) == 0) line += ' ';
    }
    sc.lines.push_back(line);
    ++sc.control_lines;
  }
  // 5. Invalid UTF-8.
  const std::vector<std::string> bad = {"\x80", "\xBF", "\xC0\x80", "\xC1\xBF", "\xC2", "\xE0\x80\x80", "\xE0\xA0",
                                        "\xED\xA0\x80", "\xED\xBF\xBF", "\xF0\x80\x80\x80", "\xF0\x90\x80",
                                        "\xF4\x90\x80\x80", "\xF5\x80\x80\x80", "\xFE", "\xFF", "\xE2\x82",
                                        "\xF0\x9F\x98", "\xC3\x28", "\xE2\x28\xA1", "\xF0\x28\x8C\xBC"};
  for (int i = 0; i < 2000; ++i) {
    std::string line;
    const int n = 1 + static_cast<int>(pick(8));
    for (int k = 0; k < n; ++k) {
      switch (pick(4)) {
        case 0: line += bad[pick(bad.size())]; break;
        case 1: line += static_cast<char>(0x80 + pick(0x80)); break;
        case 2: line += pick(2) ? " caf\xC3\xA9 " : "Hello"; break;
        default: line += "x" + bad[pick(bad.size())] + "y "; break;
      }
    }
    if (i % 50 == 0) line += "\xC3";  // truncated at the very end
    sc.lines.push_back(line);
    ++sc.invalid_utf8_lines;
  }
  // 6. Very long words and runs (max_input_chars_per_word = 100 is the WordPiece edge).
  for (size_t len : {99, 100, 101, 150, 500, 3000}) {
    sc.lines.push_back(std::string(len, 'a'));
    std::string mixed;
    for (size_t k = 0; k < len; ++k) put_utf8(mixed, k % 3 ? char32_t('b' + k % 20) : char32_t(0xE9));
    sc.lines.push_back(mixed);
    std::string greek;
    for (size_t k = 0; k < len; ++k) put_utf8(greek, 0x3B1 + k % 24);
    sc.lines.push_back("x " + greek + " y");
    sc.lines.push_back(std::string(len, '7'));
    sc.lines.push_back("a" + std::string(len, ' ') + "b");
    sc.lines.push_back(std::string(len, '!'));
    sc.long_word_lines += 6;
  }
  std::string huge;
  for (int k = 0; k < 3000; ++k) huge += (k % 7 ? "antidisestablishment " : "Ünïcödé-ŵörd ");
  sc.lines.push_back(huge);
  ++sc.long_word_lines;
  // 7. Fragment soup.
  const std::vector<std::string> fragments = {
      "Hello", "WORLD", "don't", "it's", "I'm", "we'll", "you've", "they're", "he'd", "'S", "''", "'s", "'", "O'Neil",
      "$", "+", "<", "=", ">", "^", "|", "~", "`", "!?", "...", ",", ";", ":", "-", "_", "(x)", "[y]", "{z}", "\"q\"",
      "@", "#", "%", "&", "*", "/", "\\", "123", "3.14", "1,000", "½", "²", "Ⅻ", "①", "٣", "𝟘", "€", "©", "°", "×",
      "café", "naïve", "Straße", "ΣΑΣ", "ὈΔΥΣΣΕΎΣ", "İstanbul", "ǅ", "ﬁ", "Ǆ", "ﾊﾝｶｸ", "👍🏽", "👨‍👩‍👧", "🥰", "🤩",
      "中文字符", "日本語のテキスト", "한국어", "ไทย", "עברית", "العربية", "𠀀", "𪜀", "e\xCC\x81", "\xCC\x81",
      "[CLS]", "[SEP]", "[PAD]", "[MASK]", "[UNK]", "[cls]", "<s>", "</s>", "<pad>", "<mask>", "<unk>",
      "<|endoftext|>", " ", "  ", "   ", "\t", "\n", "\r\n", "\n\n", "\xC2\xA0", "\xE3\x80\x80", "\xE2\x80\xA8",
      "\xE2\x80\x8B", "\xC2\x85", "\x0B", "\x0C", "\x1F", "http://example.com/a?b=c", "user@mail.org", "C++", "O(n^2)"};
  for (int i = 0; i < 20000; ++i) {
    std::string line;
    const int n = 1 + static_cast<int>(pick(15));
    for (int k = 0; k < n; ++k) {
      const size_t sep = pick(4);
      if (sep == 1) line += ' ';
      if (sep == 2 && k) line += "  ";
      if (pick(8) == 0) put_utf8(line, random_from(static_cast<int>(1 + pick(29))));
      else line += fragments[pick(fragments.size())];
    }
    sc.lines.push_back(line);
    ++sc.soup_lines;
  }
  return sc;
}

}  // namespace accent::testing
