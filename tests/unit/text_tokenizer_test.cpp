// Unit tests of accent's tokenizer pieces against the behaviours written down in shared/spec/tokenizers.md
// (the exhaustive comparison with HF is text_parity_test). Expected values are derived from the spec rules.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "text/bert_normalizer.h"
#include "text/normalizer.h"
#include "text/pre_tokenizers.h"
#include "text/tokenizer.h"
#include "text/unigram.h"
#include "text/unicode.h"
#include "text_oracle_util.h"
#include "test_tokenizers.h"

using namespace accent;
using namespace accent::text;
using accent::testing::TempDir;

namespace {

using accent::testing::bert;
using accent::testing::roberta;
using accent::testing::gpt2;

const std::string kVocab = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/";

std::string norm(std::string_view s, BertNormalizerOptions o = {}) {
  std::string out;
  BertNormalizer(o).normalize(s, out);
  return out;
}

std::vector<std::string> bert_words(std::string_view s) {
  std::vector<Span> spans;
  bert_pre_tokenize(s, spans);
  std::vector<std::string> out;
  for (const Span& w : spans) out.emplace_back(s.substr(w.begin, w.end - w.begin));
  return out;
}

std::vector<std::string> gpt2_words(std::string_view s) {
  std::vector<Span> spans;
  gpt2_regex_split(s, spans);
  std::vector<std::string> out;
  for (const Span& w : spans) out.emplace_back(s.substr(w.begin, w.end - w.begin));
  return out;
}

std::vector<std::string> llama3_words(std::string_view s, int max_digits) {
  std::vector<Span> spans;
  llama3_regex_split(s, max_digits, spans);
  std::vector<std::string> out;
  for (const Span& w : spans) out.emplace_back(s.substr(w.begin, w.end - w.begin));
  return out;
}

// Normalizes with one step; returns the text and, per normalized byte, the original byte range "b-e".
std::pair<std::string, std::string> normalized_with_alignment(std::string_view s, NormalizerStep step) {
  std::string out;
  std::vector<Span> alignment;
  Normalizer({step}).normalize(s, out, &alignment);
  std::string ranges;
  for (const Span& a : alignment) ranges += (ranges.empty() ? "" : " ") + std::to_string(a.begin) + "-" + std::to_string(a.end);
  return {out, ranges};
}

void write(const std::string& path, const std::string& text) { std::ofstream(path, std::ios::binary) << text; }

// "a a a ..." with n words: n tokens for bert.
std::string words(int n) {
  std::string s;
  for (int i = 0; i < n; ++i) s += i ? " a" : "a";
  return s;
}

}  // namespace

// ---------------------------------------------------------------- normalizer (spec §1.1, §1.2)

TEST(BertNormalizer, LowercaseIsPerCodePointWithoutFinalSigma) {
  // Σ at the end of a word still lowercases to σ (no context rule); accents are stripped after NFD.
  EXPECT_EQ(norm("ΣΑΣ"), "σασ");
  EXPECT_EQ(norm("ὈΔΥΣΣΕΎΣ"), "οδυσσευσ");
  // U+0130 lowercases to "i" + U+0307, and the combining dot survives only without accent stripping.
  EXPECT_EQ(norm("İ", {.strip_accents = false}), "i\xCC\x87");
  EXPECT_EQ(norm("İ"), "i");
  EXPECT_EQ(norm("Straße"), "straße");
}

TEST(BertNormalizer, AccentStrippingFollowsLowercaseUnlessSet) {
  EXPECT_EQ(norm("Café Naïve"), "cafe naive");
  EXPECT_EQ(norm("Café", {.strip_accents = false}), "café");
  EXPECT_EQ(norm("Café", {.strip_accents = true, .lowercase = false}), "Cafe");
  EXPECT_EQ(norm("Café", {.lowercase = false}), "Café");  // null strip_accents follows lowercase=false
  EXPECT_EQ(norm("e\xCC\x81"), "e");  // decomposed input too
}

TEST(BertNormalizer, CleanTextDeletesControlsAndMapsWhitespace) {
  EXPECT_EQ(norm(std::string("a\x00" "b\x7F" "c\x0B" "d", 8)), "abcd");  // U+0000, DEL and \v are deleted
  EXPECT_EQ(norm("a\tb\nc\rd"), "a b c d");
  EXPECT_EQ(norm("a\xC2\xA0" "b\xE3\x80\x80" "c\xE2\x80\xA8" "d"), "a b c d");  // NBSP, ideographic space, LS
  EXPECT_EQ(norm("a\xEF\xBF\xBD" "b\xC2\x85" "c\xE2\x80\x8B" "d"), "abcd");  // U+FFFD, NEL (Cc), ZWSP (Cf)
  EXPECT_EQ(norm("a\xEE\x80\x81" "b"), "ab");  // private use (Co) counts as control
}

TEST(BertNormalizer, ChineseCharactersGetSpacesFastRanges) {
  EXPECT_EQ(norm("中文ok"), " 中  文 ok");
  // U+2B820..U+2B91F is CJK only in the slow tokenizer; the fast one (and accent) leaves it alone.
  std::string in, spaced, plain;
  append_utf8(in, 0x2B8F0);
  EXPECT_EQ(norm(in), in);
  in.clear();
  append_utf8(in, 0x2B920);
  EXPECT_EQ(norm(in), " " + in + " ");
  // Hangul and kana are not "Chinese"; with accent stripping NFD splits Hangul into jamo and drops the
  // dakuten (U+3099, Mn) of が, as HF does.
  EXPECT_EQ(norm("한국어 ひらがな", {.strip_accents = false}), "한국어 ひらがな");
  EXPECT_EQ(norm("한 が"), "\u1112\u1161\u11AB \u304B");
}

TEST(BertPreTokenizer, EveryPunctuationCharIsAWordSymbolsAreNot) {
  EXPECT_EQ(bert_words("a$b+c<d=e>f^g|h~i`j"),
            (std::vector<std::string>{"a", "$", "b", "+", "c", "<", "d", "=", "e", ">", "f", "^", "g", "|", "h", "~", "i", "`", "j"}));
  EXPECT_EQ(bert_words("?!? don't"), (std::vector<std::string>{"?", "!", "?", "don", "'", "t"}));
  EXPECT_EQ(bert_words("5€ ©2024 30° 2×3"), (std::vector<std::string>{"5€", "©2024", "30°", "2×3"}));
  EXPECT_EQ(bert_words("«quote» — x"), (std::vector<std::string>{"«", "quote", "»", "—", "x"}));
}

// ---------------------------------------------------------------- WordPiece (spec §1.5)

TEST(WordPiece, MaxInputCharsPerWordAndWholeWordUnk) {
  const int32_t unk = *bert().token_to_id("[UNK]");
  const std::string w100(100, 'a'), w101(101, 'a');
  const Encoding e100 = bert().encode(w100, std::nullopt, {.add_special_tokens = false});
  EXPECT_GT(e100.ids.size(), 1u);
  EXPECT_EQ(std::count(e100.ids.begin(), e100.ids.end(), unk), 0);
  EXPECT_EQ(bert().encode(w101, std::nullopt, {.add_special_tokens = false}).ids, std::vector<int32_t>{unk});
  // A word with one piece that matches nothing becomes a single [UNK], pieces found before it are dropped.
  TempDir dir("wp");
  write(dir.file("vocab.txt"), "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\nhello\n##wor\n##ld\nx\n");
  const Tokenizer tiny = Tokenizer::from_pretrained(dir.path.string());
  EXPECT_EQ(tiny.encode("helloworld x", std::nullopt, {.add_special_tokens = false}).ids, (std::vector<int32_t>{5, 6, 7, 8}));
  EXPECT_EQ(tiny.encode("hellowx x", std::nullopt, {.add_special_tokens = false}).ids, (std::vector<int32_t>{1, 8}));
  EXPECT_EQ(tiny.encode("hellowor x", std::nullopt, {.add_special_tokens = false}).ids, (std::vector<int32_t>{5, 6, 8}));
  EXPECT_EQ(tiny.encode("Hello", std::nullopt).ids, (std::vector<int32_t>{2, 5, 3}));
}

TEST(WordPiece, VocabTxtLaterDuplicateWinsAndTrailingWhitespaceIsTrimmed) {
  TempDir dir("wpdup");
  write(dir.file("vocab.txt"), "[PAD]\r\n[UNK]  \n[CLS]\n[SEP]\n[MASK]\nab\nab\n");
  const Tokenizer t = Tokenizer::from_pretrained(dir.path.string());
  EXPECT_EQ(*t.token_to_id("ab"), 6);
  EXPECT_EQ(*t.token_to_id("[UNK]"), 1);
  EXPECT_EQ(*t.pad_token_id(), 0);
  EXPECT_EQ(t.id_to_token(5), "");  // id 5 lost its token to id 6, as in HF's vocab_r
}

// ---------------------------------------------------------------- byte-level BPE (spec §2)

TEST(ByteLevel, BytesToUnicodeMap) {
  const auto& m = bytes_to_unicode();
  EXPECT_EQ(m[' '], 0x120u);
  EXPECT_EQ(m['\n'], 0x10Au);
  EXPECT_EQ(m['\t'], 0x109u);
  EXPECT_EQ(m[0x7F], 0x121u);
  EXPECT_EQ(m[0xA0], 0x142u);
  EXPECT_EQ(m[0xAD], 0x143u);
  EXPECT_EQ(m[0x00], 0x100u);
  EXPECT_EQ(m['A'], static_cast<char32_t>('A'));
  EXPECT_EQ(m[0xE9], 0xE9u);
  for (int b = 0; b < 256; ++b) EXPECT_EQ(unicode_to_byte(m[b]), b);
}

TEST(ByteLevel, Gpt2RegexAlternativesAndWhitespaceRules) {
  EXPECT_EQ(gpt2_words("I'm here, it's OK'S"),
            (std::vector<std::string>{"I", "'m", " here", ",", " it", "'s", " OK", "'", "S"}));
  EXPECT_EQ(gpt2_words("a   b"), (std::vector<std::string>{"a", "  ", " b"}));
  EXPECT_EQ(gpt2_words("a \tb"), (std::vector<std::string>{"a", " ", "\t", "b"}));
  EXPECT_EQ(gpt2_words("x  "), (std::vector<std::string>{"x", "  "}));
  EXPECT_EQ(gpt2_words("12ab !?x 3"), (std::vector<std::string>{"12", "ab", " !?", "x", " 3"}));
  EXPECT_EQ(gpt2_words("\n\nHello"), (std::vector<std::string>{"\n", "\n", "Hello"}));
  EXPECT_EQ(gpt2_words(" 's"), (std::vector<std::string>{" '", "s"}));
  EXPECT_EQ(gpt2_words("café²"), (std::vector<std::string>{"café", "²"}));
}

TEST(SplitPattern, Llama3AndQwen2Alternatives) {
  // Case-insensitive contractions; an optional non-letter/number/newline char joins the letters after it.
  EXPECT_EQ(llama3_words("I'M here, IT'S ok", 3),
            (std::vector<std::string>{"I", "'M", " here", ",", " IT", "'S", " ok"}));
  EXPECT_EQ(llama3_words("(hello) \tworld", 3), (std::vector<std::string>{"(hello", ")", " ", "\tworld"}));
  // Digits: groups of at most three (Llama-3) or one (Qwen2), never joined to a space.
  EXPECT_EQ(llama3_words("x 1234567", 3), (std::vector<std::string>{"x", " ", "123", "456", "7"}));
  EXPECT_EQ(llama3_words("12", 1), (std::vector<std::string>{"1", "2"}));
  // Punctuation runs keep a leading space and the newlines after them; whitespace up to the last newline.
  EXPECT_EQ(llama3_words("a ?!\n\nb", 3), (std::vector<std::string>{"a", " ?!\n\n", "b"}));
  EXPECT_EQ(llama3_words("a \n \n  b", 3), (std::vector<std::string>{"a", " \n \n", " ", " b"}));
  EXPECT_EQ(llama3_words("a   b  ", 3), (std::vector<std::string>{"a", "  ", " b", "  "}));
  EXPECT_EQ(llama3_words("\r\nx", 3), (std::vector<std::string>{"\r\n", "x"}));
  // Oniguruma's (?i) folds U+017F (long s) to s: "'ſ" is a contraction (checked against tokenizers).
  EXPECT_EQ(llama3_words("it'\u017fa", 1), (std::vector<std::string>{"it", "'\u017f", "a"}));
}

TEST(Unigram, MetaspaceFirstAfterStripAndUnknownsAsHuggingFace) {
  TempDir dir("unigram");
  // Expected values from tokenizers (node tests/oracle, same file): Strip removes the leading spaces, so the
  // piece no longer starts at original byte 0 and Metaspace "first" prepends nothing.
  const std::string json = R"({"version":"1.0","added_tokens":[],
    "normalizer":{"type":"Strip","strip_left":true,"strip_right":false},
    "pre_tokenizer":{"type":"Metaspace","replacement":"\u2581","prepend_scheme":"first","split":true},
    "post_processor":null,"decoder":null,
    "model":{"type":"Unigram","unk_id":0,"vocab":[["<unk>",0],["\u2581",-2],["H",-3],["e",-3],["l",-3],["o",-3],
                                                ["\u2581Hello",-1],["Hello",-1.5]],"byte_fallback":false}})";
  write(dir.str("tokenizer.json"), json);
  const Tokenizer tok = Tokenizer::from_pretrained(dir.str("tokenizer.json"));
  EncodeOptions o;
  o.return_offsets_mapping = true;
  const Encoding stripped = tok.encode("  Hello", std::nullopt, o);
  EXPECT_EQ(stripped.ids, (std::vector<int32_t>{7}));
  EXPECT_EQ(stripped.offsets, (std::vector<std::pair<int32_t, int32_t>>{{2, 7}}));
  EXPECT_EQ(tok.encode("  Hello").ids, (std::vector<int32_t>{7}));  // the same without offsets
  EXPECT_EQ(tok.encode("Hello").ids, (std::vector<int32_t>{6}));
  // An unknown piece's token string is its text (several unknown characters fuse into one).
  const Encoding unknown = tok.encode("Hexy");
  EXPECT_EQ(unknown.ids, (std::vector<int32_t>{1, 2, 3, 0}));
  EXPECT_EQ(unknown.tokens.back(), "xy");
}

TEST(Unigram, MissingUnkIdIsAnErrorOnlyWhereAnUnknownWouldBeChosen) {
  std::vector<std::pair<std::string, double>> vocab = {{"a", -1}, {"ab", -2}};
  const Unigram model(vocab, std::nullopt, false);
  std::vector<int32_t> ids;
  model.tokenize("ab", ids);  // "b" alone is unknown, but "ab" covers it
  EXPECT_EQ(ids, (std::vector<int32_t>{1}));
  EXPECT_THROW(model.tokenize("b", ids), Error);
}

TEST(Normalizer, StepsKeepHuggingFaceAlignments) {
  using Kind = NormalizerStep::Kind;
  NormalizerStep nfc;
  nfc.kind = Kind::Nfc;
  // e + U+0301 composes; the composite keeps the starter's range only (the mark's is dropped, as in HF).
  EXPECT_EQ(normalized_with_alignment("e\u0301x", nfc),
            (std::pair<std::string, std::string>{"\u00e9x", "0-1 0-1 3-4"}));
  // a + U+0316 + U+0301: the acute composes, the grave-below stays and takes the next
  // original slot (the acute's range: HF assigns ranges by position).
  EXPECT_EQ(normalized_with_alignment("a\u0316\u0301", nfc),
            (std::pair<std::string, std::string>{"\u00e1\u0316", "0-1 0-1 3-5 3-5"}));
  // Hangul L V T compose to one syllable.
  EXPECT_EQ(normalized_with_alignment("\u1100\u1161\u11a8", nfc).first, "\uac01");
  // Composition exclusions decompose and stay so: U+1D15E → U+1D157 U+1D165.
  EXPECT_EQ(normalized_with_alignment("\U0001D15E", nfc),
            (std::pair<std::string, std::string>{"\U0001D157\U0001D165", "0-4 0-4 0-4 0-4 0-4 0-4 0-4 0-4"}));
  NormalizerStep nfkc;
  nfkc.kind = Kind::Nfkc;
  EXPECT_EQ(normalized_with_alignment("\ufb01x\u00b2", nfkc),
            (std::pair<std::string, std::string>{"fix2", "0-3 0-3 3-4 4-6"}));
  NormalizerStep replace;
  replace.kind = Kind::Replace, replace.pattern = " ", replace.content = "\u2581";
  EXPECT_EQ(normalized_with_alignment("a b", replace),
            (std::pair<std::string, std::string>{"a\u2581b", "0-1 1-2 1-2 1-2 2-3"}));
  NormalizerStep prepend;
  prepend.kind = Kind::Prepend, prepend.content = "\u2581";
  EXPECT_EQ(normalized_with_alignment("ab", prepend),
            (std::pair<std::string, std::string>{"\u2581ab", "0-1 0-1 0-1 0-1 1-2"}));
  EXPECT_EQ(normalized_with_alignment("", prepend).first, "");
  NormalizerStep lower;
  lower.kind = Kind::Lowercase;
  EXPECT_EQ(normalized_with_alignment("A\u0130", lower),
            (std::pair<std::string, std::string>{"ai\u0307", "0-1 1-3 1-3 1-3"}));
  NormalizerStep strip;
  strip.kind = Kind::Strip;
  EXPECT_EQ(normalized_with_alignment("  ab\t", strip), (std::pair<std::string, std::string>{"ab", "2-3 3-4"}));
}

TEST(Bpe, MergesTxtQuirks) {
  TempDir dir("merges");
  write(dir.file("vocab.json"), R"({"a":0,"b":1,"c":2,"ab":3,"abc":4,"Ġ":5})");
  // No final newline: the last merge is kept (tokenizers' reader; the slow one would lose it).
  write(dir.file("merges.txt"), "#version: 0.2\r\na b\r\nab c");
  const Tokenizer t = Tokenizer::from_gpt2_files(dir.file("vocab.json"), dir.file("merges.txt"));
  EXPECT_EQ(t.encode("abc").ids, std::vector<int32_t>{4});
  EXPECT_EQ(t.encode("cab").ids, (std::vector<int32_t>{2, 3}));
  write(dir.file("bad.txt"), "#version: 0.2\na  b\n");
  EXPECT_THROW(Tokenizer::from_gpt2_files(dir.file("vocab.json"), dir.file("bad.txt")), Error);
  write(dir.file("unknown.txt"), "a d\n");
  EXPECT_THROW(Tokenizer::from_gpt2_files(dir.file("vocab.json"), dir.file("unknown.txt")), Error);
}

TEST(Bpe, TokenizerJsonAcceptsBothMergeFormatsAndRanksByOrder) {
  TempDir dir("mergefmt");
  const std::string head = R"({"version":"1.0","added_tokens":[],"normalizer":null,
    "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
    "post_processor":null,"decoder":null,"model":{"type":"BPE","dropout":null,"unk_token":null,
    "continuing_subword_prefix":null,"end_of_word_suffix":null,"fuse_unk":false,
    "vocab":{"a":0,"b":1,"c":2,"ab":3,"bc":4,"abc":5},"merges":)";
  write(dir.file("legacy.json"), head + R"(["b c","a b","ab c"]}})");
  write(dir.file("pairs.json"), head + R"([["b","c"],["a","b"],["ab","c"]]}})");
  const Tokenizer legacy = Tokenizer::from_pretrained(dir.file("legacy.json"));
  const Tokenizer pairs = Tokenizer::from_pretrained(dir.file("pairs.json"));
  // "b c" has rank 0, so "abc" → a + bc, and "ab c" never applies.
  EXPECT_EQ(legacy.encode("abc").ids, (std::vector<int32_t>{0, 4}));
  EXPECT_EQ(pairs.encode("abc").ids, legacy.encode("abc").ids);
  EXPECT_EQ(pairs.encode("abab").ids, (std::vector<int32_t>{3, 3}));
}

TEST(Bpe, RobertaMaskSwallowsSpacesBeforeIt) {
  const Encoding e = roberta().encode("Hello <mask>!", std::nullopt, {.add_special_tokens = false});
  EXPECT_EQ(e.ids, (std::vector<int32_t>{31414, 50264, 328}));
  EXPECT_EQ(e.tokens[1], " <mask>");
}

// ---------------------------------------------------------------- templates (spec §3.1)

TEST(Templates, BertRobertaGpt2) {
  const Encoding b = bert().encode("hi", std::string_view("there"));
  EXPECT_EQ(b.ids, (std::vector<int32_t>{101, 7632, 102, 2045, 102}));
  EXPECT_EQ(b.type_ids, (std::vector<int32_t>{0, 0, 0, 1, 1}));
  EXPECT_EQ(b.special_tokens_mask, (std::vector<int32_t>{1, 0, 1, 0, 1}));
  const Encoding r = roberta().encode("hi", std::string_view("there"));
  EXPECT_EQ(r.ids, (std::vector<int32_t>{0, 3592, 2, 2, 8585, 2}));
  EXPECT_EQ(r.type_ids, std::vector<int32_t>(6, 0));
  const Encoding g = gpt2().encode("hi", std::string_view("there"));
  EXPECT_EQ(g.ids, (std::vector<int32_t>{5303, 8117}));
  EXPECT_EQ(bert().num_special_tokens_to_add(false), 2);
  EXPECT_EQ(bert().num_special_tokens_to_add(true), 3);
  EXPECT_EQ(roberta().num_special_tokens_to_add(true), 4);
  EXPECT_EQ(gpt2().num_special_tokens_to_add(true), 0);
  EXPECT_TRUE(bert().returns_token_type_ids());
  EXPECT_FALSE(roberta().returns_token_type_ids());
  EXPECT_FALSE(gpt2().returns_token_type_ids());
  // Special tokens in the text are matched before normalization (the lowercase form is not special).
  EXPECT_EQ(bert().encode("[SEP]", std::nullopt, {.add_special_tokens = false}).ids, std::vector<int32_t>{102});
  EXPECT_EQ(bert().encode("[sep]", std::nullopt, {.add_special_tokens = false}).size(), 3u);
}

// ---------------------------------------------------------------- truncation (spec §3.2)

TEST(Templates, EmptyPairTemplateGivesAnEmptyEncodingLikeTokenizers) {
  // tokenizers (checked with the oracle): a TemplateProcessing whose "pair" is [] encodes a pair as nothing.
  TempDir dir("empty_pair");
  nlohmann::json j;
  std::ifstream(kVocab + "bert-base-uncased/tokenizer.json") >> j;
  j["post_processor"]["pair"] = nlohmann::json::array();
  write(dir.str("tokenizer.json"), j.dump());
  const Tokenizer tok = Tokenizer::from_pretrained(dir.str("tokenizer.json"));
  EXPECT_TRUE(tok.encode("hello", std::string_view("world")).ids.empty());
  EXPECT_EQ(tok.encode("hello").ids.size(), 3u);
}

TEST(Truncation, LongestFirstPairMathIncludingOddLimit) {
  auto lengths = [](int a, int b, int64_t max_length, Side side = Side::Right) {
    EncodeOptions o;
    o.truncation = TruncationStrategy::LongestFirst;
    o.max_length = max_length;
    o.truncation_side = side;
    const Encoding e = bert().encode(words(a), std::string_view(words(b)), o);
    const int64_t type0 = std::count(e.type_ids.begin(), e.type_ids.end(), 0) - 2;  // minus [CLS] and first [SEP]
    const int64_t type1 = std::count(e.type_ids.begin(), e.type_ids.end(), 1) - 1;
    return std::pair<int64_t, int64_t>(type0, type1);
  };
  // L = max_length - 3.
  EXPECT_EQ(lengths(2, 9, 10), (std::pair<int64_t, int64_t>(2, 5)));   // only the longer is cut: max(n1, L-n1)
  EXPECT_EQ(lengths(5, 9, 10), (std::pair<int64_t, int64_t>(3, 4)));   // both cut, odd L=7: extra token to B
  EXPECT_EQ(lengths(9, 5, 10), (std::pair<int64_t, int64_t>(4, 3)));   // A longer: A gets the extra token
  EXPECT_EQ(lengths(6, 6, 10), (std::pair<int64_t, int64_t>(3, 4)));   // equal: A counts as the shorter
  EXPECT_EQ(lengths(8, 8, 11), (std::pair<int64_t, int64_t>(4, 4)));   // even L
  EXPECT_EQ(lengths(3, 3, 10), (std::pair<int64_t, int64_t>(3, 3)));   // fits
  EXPECT_EQ(lengths(20, 1, 10), (std::pair<int64_t, int64_t>(6, 1)));
  // Single sequence, left side keeps the end.
  EncodeOptions o;
  o.max_length = 4;  // max_length alone turns on longest_first
  o.truncation_side = Side::Left;
  EXPECT_EQ(bert().encode("one two three four").ids, (std::vector<int32_t>{101, 2028, 2048, 2093, 2176, 102}));
  EXPECT_EQ(bert().encode("one two three four", std::nullopt, o).ids, (std::vector<int32_t>{101, 2093, 2176, 102}));
}

TEST(Truncation, OnlyFirstOnlySecondAndErrors) {
  EncodeOptions o;
  o.truncation = TruncationStrategy::OnlySecond;
  o.max_length = 8;
  Encoding e = bert().encode(words(3), std::string_view(words(6)), o);
  EXPECT_EQ(e.size(), 8u);
  EXPECT_EQ(std::count(e.type_ids.begin(), e.type_ids.end(), 1), 3);  // B cut to 2 (+ [SEP])
  // The second sequence is too short to remove what is needed: an error, as in the fast tokenizer.
  EXPECT_THROW(bert().encode(words(6), std::string_view(words(2)), o), Error);
  // A single sequence with only_second: an error only when truncation is actually needed.
  EXPECT_NO_THROW(bert().encode(words(2), std::nullopt, o));
  EXPECT_THROW(bert().encode(words(20), std::nullopt, o), Error);
  o.truncation = TruncationStrategy::OnlyFirst;
  e = bert().encode(words(10), std::string_view(words(2)), o);
  EXPECT_EQ(std::count(e.type_ids.begin(), e.type_ids.end(), 0), 5);  // [CLS] + 3 + [SEP]
  // Without a known model_max_length, truncation without max_length is skipped (transformers warns).
  EncodeOptions no_len;
  no_len.truncation = TruncationStrategy::LongestFirst;
  EXPECT_EQ(bert().model_max_length(), Tokenizer::kNoModelMaxLength);
  EXPECT_EQ(bert().encode(words(600), std::nullopt, no_len).size(), 602u);
  EXPECT_EQ(roberta().model_max_length(), 512);
  EXPECT_EQ(roberta().encode(words(600), std::nullopt, no_len).size(), 512u);
}

// ---------------------------------------------------------------- padding (spec §3.3)

TEST(Padding, LongestMaxLengthMultipleAndSides) {
  std::vector<std::pair<std::string, std::optional<std::string>>> batch = {{"a", std::nullopt}, {words(5), std::string("b")}};
  EncodeOptions o;
  o.padding = PaddingStrategy::Longest;
  std::vector<Encoding> es = bert().encode_batch(batch, o);
  ASSERT_EQ(es[0].size(), 9u);
  ASSERT_EQ(es[1].size(), 9u);
  EXPECT_EQ(es[0].ids, (std::vector<int32_t>{101, 1037, 102, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(es[0].attention_mask, (std::vector<int32_t>{1, 1, 1, 0, 0, 0, 0, 0, 0}));
  EXPECT_EQ(es[0].special_tokens_mask, (std::vector<int32_t>{1, 0, 1, 1, 1, 1, 1, 1, 1}));
  EXPECT_EQ(es[0].type_ids, std::vector<int32_t>(9, 0));
  o.pad_to_multiple_of = 4;
  o.padding_side = Side::Left;
  es = bert().encode_batch(batch, o);
  EXPECT_EQ(es[0].size(), 12u);
  EXPECT_EQ(es[0].ids.back(), 102);
  EXPECT_EQ(es[0].attention_mask.front(), 0);
  o = {};
  o.padding = PaddingStrategy::MaxLength;
  o.max_length = 6;
  const Encoding long_one = bert().encode(words(10), std::nullopt, o);  // never cut by padding
  EXPECT_EQ(long_one.size(), 12u);
  EXPECT_EQ(bert().encode("x", std::nullopt, o).size(), 6u);
  EXPECT_EQ(roberta().encode("x", std::nullopt, o).ids, (std::vector<int32_t>{0, 1178, 2, 1, 1, 1}));
  // GPT-2 has no pad token.
  EXPECT_FALSE(gpt2().pad_token_id().has_value());
  EXPECT_THROW(gpt2().encode("x", std::nullopt, o), Error);
}

// ---------------------------------------------------------------- invalid UTF-8

TEST(InvalidUtf8, LossyReplacementIsCountedAndTokenized) {
  std::string out;
  EXPECT_EQ(to_valid_utf8("a\xFF" "b", out), 1u);
  EXPECT_EQ(out, "a\xEF\xBF\xBD" "b");
  EXPECT_EQ(to_valid_utf8("\xE2\x82", out), 1u);          // truncated sequence: one U+FFFD
  EXPECT_EQ(to_valid_utf8("\xC0\x80", out), 2u);          // overlong: two
  EXPECT_EQ(to_valid_utf8("\xED\xA0\x80", out), 3u);      // surrogate: three
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98\x80", out), 0u);  // valid 4-byte
  EXPECT_EQ(to_valid_utf8("\xF0\x9F\x98" "x", out), 1u);
  EXPECT_EQ(out, "\xEF\xBF\xBD" "x");
  const Tokenizer g = gpt2();
  const size_t before = g.invalid_utf8_replacements();
  const Encoding e = g.encode("a\xFF" "b");
  EXPECT_EQ(e.replaced_invalid_utf8, 1u);
  EXPECT_EQ(e.ids, g.encode("a\xEF\xBF\xBD" "b").ids);
  EXPECT_EQ(g.invalid_utf8_replacements(), before + 1);
  // BERT deletes U+FFFD in clean_text, so the bad byte disappears.
  EXPECT_EQ(bert().encode("a\xFF" "b").ids, bert().encode("ab").ids);
}

// ---------------------------------------------------------------- loading precedence (spec §5)

TEST(Loading, VocabFilesEqualTokenizerJsonAndConfigOverrides) {
  TempDir dir("load");
  std::filesystem::copy_file(kVocab + "bert-base-uncased/vocab.txt", dir.file("vocab.txt"));
  const Tokenizer from_vocab = Tokenizer::from_pretrained(dir.path.string());
  const std::string text = "Héllo, Wörld! [SEP] 中文 don't";
  EXPECT_EQ(from_vocab.encode(text, std::string_view("pair")).ids, bert().encode(text, std::string_view("pair")).ids);
  EXPECT_EQ(from_vocab.family(), TokenizerFamily::Bert);
  // do_lower_case=false in tokenizer_config overrides tokenizer.json's lowercase=true (and strip_accents follows).
  TempDir cased("cased");
  std::filesystem::copy_file(kVocab + "bert-base-uncased/tokenizer.json", cased.file("tokenizer.json"));
  write(cased.file("tokenizer_config.json"), R"({"do_lower_case": false, "model_max_length": 128})");
  const Tokenizer c = Tokenizer::from_pretrained(cased.path.string());
  EXPECT_EQ(c.model_max_length(), 128);
  EXPECT_EQ(c.encode("Hello", std::nullopt, {.add_special_tokens = false}).tokens,
            (std::vector<std::string>{"[UNK]"}));
  EXPECT_EQ(bert().encode("Hello", std::nullopt, {.add_special_tokens = false}).tokens,
            (std::vector<std::string>{"hello"}));
  // RoBERTa from vocab.json + merges.txt equals its tokenizer.json.
  TempDir rob("rob");
  std::filesystem::copy_file(kVocab + "roberta-base/vocab.json", rob.file("vocab.json"));
  std::filesystem::copy_file(kVocab + "roberta-base/merges.txt", rob.file("merges.txt"));
  const Tokenizer r = Tokenizer::from_pretrained(rob.path.string());
  EXPECT_EQ(r.family(), TokenizerFamily::Roberta);
  const std::string t2 = "Hello <mask> world!  It's 2024\n\tok";
  EXPECT_EQ(r.encode(t2, std::string_view("b")).ids, roberta().encode(t2, std::string_view("b")).ids);
  EXPECT_EQ(r.vocab_size(), 50265);
  EXPECT_EQ(gpt2().vocab_size(), 50257);
  EXPECT_EQ(bert().vocab_size(), 30522);
  // add_prefix_space from the config.
  write(rob.file("tokenizer_config.json"), R"({"add_prefix_space": true})");
  const Tokenizer rp = Tokenizer::from_pretrained(rob.path.string());
  EXPECT_EQ(rp.encode("Hello", std::nullopt, {.add_special_tokens = false}).tokens, (std::vector<std::string>{"ĠHello"}));
  EXPECT_THROW(Tokenizer::from_pretrained(dir.file("missing")), Error);
}
