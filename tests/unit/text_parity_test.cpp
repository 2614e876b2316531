// Token-for-token parity of accent's tokenizers with Hugging Face `tokenizers` (the Rust core, via the npm
// package @anush008/tokenizers) for bert-base-uncased, roberta-base and gpt2 on real text (Brown corpus,
// SpamAssassin raw mail lines, SST-2, UCI sentiment, AG News: ~170k lines) plus a generated stress set
// (text_stress_corpus.h): single and pair inputs, add_special_tokens on/off, every truncation strategy on both
// sides with several max_lengths, padding to max_length / batch longest / multiples, left and right.
//
// The oracle reads the same bytes and decodes them with Node's lossy UTF-8 decoder (U+FFFD per maximal invalid
// subpart), which is the behaviour accent implements for invalid input.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <iostream>
#include <sstream>
#include <deque>
#include <map>

#include "text/tokenizer.h"
#include "text_oracle_util.h"
#include "text_parity_tasks.h"
#include "text_stress_corpus.h"

using namespace accent;
using namespace accent::testing;
using nlohmann::json;

namespace {

const std::string kVocabDir = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/";

}  // namespace

TEST(TokenizerParity, HuggingFaceTokenizersOnRealAndStressText) {
  const auto t0 = std::chrono::steady_clock::now();
  TempDir tmp("parity");
  // Real lines from the npm corpora and tests/data.
  const std::string corpus_file = tmp.file("corpus.bin");
  const json source_counts = json::parse(run_oracle("corpus '" + corpus_file + "' 25000"));
  std::vector<Record> real = read_records(corpus_file);
  const StressCorpus stress = make_stress_corpus();
  std::vector<Record> singles = real;
  for (const std::string& s : stress.lines) singles.push_back({s, std::nullopt});
  size_t real_bytes = 0;
  for (const Record& r : real) real_bytes += r.a.size();
  std::cout << "[corpus] real lines " << real.size() << " (" << real_bytes / 1e6 << " MB) by source "
            << source_counts.dump() << "; stress lines " << stress.lines.size() << " (categories "
            << stress.category_lines << ", cjk " << stress.cjk_lines << ", combining " << stress.combining_lines
            << ", controls " << stress.control_lines << ", invalid utf-8 " << stress.invalid_utf8_lines
            << ", long words " << stress.long_word_lines << ", soup " << stress.soup_lines << ")\n";
  ASSERT_GE(real.size(), 100000u);

  // Pairs: real line with real line, stress with real, stress with stress.
  std::vector<Record> pairs;
  const size_t nr = real.size(), ns = stress.lines.size();
  for (size_t i = 0; i < 10000; ++i) pairs.push_back({real[(i * 7919) % nr].a, real[(i * 104729 + 13) % nr].a});
  for (size_t i = 0; i < 2000; ++i) pairs.push_back({stress.lines[(i * 31) % ns], real[(i * 613) % nr].a});
  for (size_t i = 0; i < 1000; ++i) pairs.push_back({stress.lines[(i * 97) % ns], stress.lines[(i * 89 + 5) % ns]});
  auto subset = [](const std::vector<Record>& v, size_t n, size_t stride) {
    std::vector<Record> out;
    for (size_t i = 0; i < n; ++i) out.push_back(v[(i * stride) % v.size()]);
    return out;
  };
  const std::vector<Record> singles_6k_b = subset(singles, 6000, 17);
  const std::vector<Record> singles_6k = subset(singles, 6000, 29);
  const std::vector<Record> pairs_2k = subset(pairs, 2000, 7);
  const std::vector<Record> pairs_3k_pad = subset(pairs, 3000, 3);

  struct Vocab {
    std::string name;
    json oracle_spec;
    std::string accent_path;
    bool has_pad;
  };
  json bert_spec, roberta_spec, gpt2_spec;
  bert_spec["file"] = kVocabDir + "bert-base-uncased/tokenizer.json";
  roberta_spec["file"] = kVocabDir + "roberta-base/tokenizer.json";
  // gpt2 has only vocab.json + merges.txt: the oracle builds BPE.fromFile + ByteLevel like GPT2Converter,
  // accent loads the directory.
  gpt2_spec["gpt2"]["vocab"] = kVocabDir + "gpt2/vocab.json";
  gpt2_spec["gpt2"]["merges"] = kVocabDir + "gpt2/merges.txt";
  const std::vector<Vocab> vocabs = {
      {"bert-base-uncased", bert_spec, kVocabDir + "bert-base-uncased", true},
      {"roberta-base", roberta_spec, kVocabDir + "roberta-base", true},
      {"gpt2", gpt2_spec, kVocabDir + "gpt2", false},
  };

  std::vector<std::string> failures;
  for (const Vocab& v : vocabs) {
    const Tokenizer tok = Tokenizer::from_pretrained(v.accent_path);
    std::vector<Task> tasks;
    auto opts = [](auto&&... setters) {
      EncodeOptions o;
      (setters(o), ...);
      return o;
    };
    const EncodeOptions with_offsets = opts([](EncodeOptions& o) { o.return_offsets_mapping = true; });
    tasks.push_back({"single offsets", &singles, with_offsets});
    tasks.push_back({"single no-specials", &singles_6k_b, opts([](EncodeOptions& o) { o.add_special_tokens = false; })});
    tasks.push_back({"pair offsets", &pairs, with_offsets});
    tasks.push_back({"pair no-specials", &pairs_2k, opts([](EncodeOptions& o) { o.add_special_tokens = false; })});
    const TruncationStrategy strategies[] = {TruncationStrategy::LongestFirst, TruncationStrategy::OnlyFirst,
                                             TruncationStrategy::OnlySecond};
    const int64_t lengths[][2] = {{9, 64}, {16, 33}, {30, 128}};
    for (int si = 0; si < 3; ++si)
      for (Side side : {Side::Right, Side::Left})
        for (int64_t len : lengths[si]) {
          EncodeOptions o;
          o.truncation = strategies[si];
          o.truncation_side = side;
          o.max_length = len;
          tasks.push_back({std::string("pair ") + strategy_json(strategies[si]) + (side == Side::Left ? " left " : " right ") +
                               std::to_string(len), &pairs_2k, o});
        }
    tasks.push_back({"single LongestFirst right 16", &singles_6k, opts([](EncodeOptions& o) {
                       o.truncation = TruncationStrategy::LongestFirst, o.max_length = 16;
                     })});
    tasks.push_back({"single LongestFirst left 7", &singles_6k, opts([](EncodeOptions& o) {
                       o.truncation = TruncationStrategy::LongestFirst, o.max_length = 7, o.truncation_side = Side::Left;
                     })});
    tasks.push_back({"single OnlyFirst no-specials 5", &singles_6k, opts([](EncodeOptions& o) {
                       o.truncation = TruncationStrategy::OnlyFirst, o.max_length = 5, o.add_special_tokens = false;
                     })});
    // Overflowing windows with a stride (return_overflowing_tokens): QA's only_second, and longest_first where
    // both texts can overflow (tokenizers then nests windows inside windows; compared recursively).
    auto windows = [&](TruncationStrategy strategy, Side side, int64_t max_length, int64_t stride, bool specials = true) {
      EncodeOptions o = with_offsets;
      o.truncation = strategy, o.truncation_side = side, o.max_length = max_length;
      o.return_overflowing_tokens = true, o.stride = stride, o.add_special_tokens = specials;
      return o;
    };
    tasks.push_back({"pair windows OnlySecond right 40 stride 8", &pairs_2k, windows(TruncationStrategy::OnlySecond, Side::Right, 40, 8)});
    tasks.push_back({"pair windows OnlySecond left 40 stride 8", &pairs_2k, windows(TruncationStrategy::OnlySecond, Side::Left, 40, 8)});
    tasks.push_back({"pair windows OnlyFirst right 33 stride 3", &pairs_2k, windows(TruncationStrategy::OnlyFirst, Side::Right, 33, 3)});
    tasks.push_back({"pair windows LongestFirst right 24 stride 4", &pairs_2k, windows(TruncationStrategy::LongestFirst, Side::Right, 24, 4)});
    tasks.push_back({"single windows right 16 stride 5", &singles_6k, windows(TruncationStrategy::LongestFirst, Side::Right, 16, 5)});
    tasks.push_back({"single windows left 12 stride 3", &singles_6k, windows(TruncationStrategy::LongestFirst, Side::Left, 12, 3)});
    tasks.push_back({"single windows no-specials 5 stride 2", &singles_6k_b, windows(TruncationStrategy::OnlyFirst, Side::Right, 5, 2, false)});
    if (v.has_pad) {
      EncodeOptions padded = windows(TruncationStrategy::OnlySecond, Side::Right, 48, 12);
      padded.padding = PaddingStrategy::MaxLength;
      tasks.push_back({"pair windows OnlySecond 48 stride 12 + pad max_length", &pairs_3k_pad, padded});
      tasks.push_back({"pair truncate+pad max_length 48", &pairs_3k_pad, opts([](EncodeOptions& o) {
                         o.truncation = TruncationStrategy::LongestFirst, o.max_length = 48;
                         o.padding = PaddingStrategy::MaxLength;
                       })});
      tasks.push_back({"single pad max_length 40 multiple 16 left", &singles_6k, opts([](EncodeOptions& o) {
                         o.padding = PaddingStrategy::MaxLength, o.max_length = 40, o.pad_to_multiple_of = 16;
                         o.padding_side = Side::Left;
                       })});
      Task longest{"single pad longest batch 32 multiple 8", &singles_6k, opts([](EncodeOptions& o) {
                     o.padding = PaddingStrategy::Longest, o.pad_to_multiple_of = 8;
                   }), 32};
      tasks.push_back(longest);
      Task longest_pairs{"pair pad longest batch 16 left, truncate 100", &pairs_3k_pad, opts([](EncodeOptions& o) {
                           o.padding = PaddingStrategy::Longest, o.padding_side = Side::Left;
                           o.truncation = TruncationStrategy::LongestFirst, o.max_length = 100;
                         }), 16};
      tasks.push_back(longest_pairs);
    }

    // tokenizers panics (aborting node) where a window could not advance (stride >= what is left for the text
    // being cut); accent raises an error there. Those records are left out of both sides.
    std::deque<std::vector<Record>> kept_records;
    size_t left_out = 0;
    for (Task& t : tasks) {
      if (t.options.stride == 0) continue;
      std::vector<Record> kept;
      for (const Record& r : *t.records) {
        try {
          tok.encode(r.a, r.b ? std::optional<std::string_view>(*r.b) : std::nullopt, t.options);
        } catch (const std::exception& e) {
          if (std::string(e.what()).find("stride") != std::string::npos) {
            ++left_out;
            continue;
          }
        }
        kept.push_back(r);
      }
      kept_records.push_back(std::move(kept));
      t.records = &kept_records.back();
    }

    const Comparison total = compare_with_oracle(tok, v.oracle_spec, v.name, tasks, tmp, left_out);
    EXPECT_EQ(total.mismatches, 0u) << v.name;
    for (const std::string& m : total.first_mismatches) failures.push_back(m);
  }
  for (const std::string& m : failures) std::cout << "  " << m << "\n";

  // Pre-tokenized input (is_split_into_words, the NER case): real sentences as words — WNUT-17 tokens and
  // corpus lines split on spaces. tokenizers encodes each word on its own and merges them, so the oracle encodes
  // every word alone (no special tokens) and accent's encode_words must equal the concatenation, with word ids
  // set to the word's index and offsets relative to each word. Byte-level tokenizers with add_prefix_space.
  std::vector<std::vector<std::string>> sentences;
  {
    std::ifstream conll(std::string(ACCENT_TEST_DATA_DIR) + "/token-classification/wnut17/wnut17train.conll");
    std::vector<std::string> words;
    for (std::string line; std::getline(conll, line);) {
      const size_t cut = line.find_first_of(" \t");
      const std::string word = line.substr(0, cut);
      if (word.empty()) {
        if (!words.empty()) sentences.push_back(std::move(words));
        words.clear();
      } else {
        words.push_back(word);
      }
    }
    if (!words.empty()) sentences.push_back(std::move(words));
  }
  const size_t conll_sentences = sentences.size();
  ASSERT_GT(conll_sentences, 3000u);
  for (size_t i = 0; i < real.size(); i += 4) {
    std::vector<std::string> words;
    std::istringstream is(real[i].a);
    for (std::string w; is >> w;) words.push_back(w);
    if (!words.empty()) sentences.push_back(std::move(words));
  }
  std::vector<Record> word_records;
  for (const auto& sentence : sentences)
    for (const std::string& w : sentence) word_records.push_back({w, std::nullopt});
  const std::string words_file = tmp.file("words.bin");
  write_records(words_file, word_records);
  for (const Vocab& v : vocabs) {
    Tokenizer tok = Tokenizer::from_pretrained(v.accent_path);
    json spec = v.oracle_spec;
    if (tok.family() == TokenizerFamily::Roberta) spec["roberta_add_prefix_space"] = true;
    if (tok.family() == TokenizerFamily::Gpt2) spec["gpt2"]["add_prefix_space"] = true;
    if (tok.family() != TokenizerFamily::Bert) tok.set_add_prefix_space(true);
    Task task{"words", &word_records, {}};
    task.options.add_special_tokens = false;
    task.options.return_offsets_mapping = true;
    json job;
    job["tasks"] = json::array({task_json(task, spec, tok, words_file, tmp.file(v.name + "_words.bin"))});
    const std::string job_file = tmp.file(v.name + "_words_job.json");
    { std::ofstream(job_file) << job.dump(); }
    run_oracle("encode '" + job_file + "'");
    const auto per_word = read_results(tmp.file(v.name + "_words.bin"), true);
    ASSERT_EQ(per_word.size(), word_records.size());
    Comparison c;
    size_t next = 0, words_compared = 0;
    for (const auto& sentence : sentences) {
      // The oracle's sentence: its words' encodings one after the other, word ids = word index.
      OracleEncoding expected;
      bool failed = false;
      for (size_t w = 0; w < sentence.size(); ++w, ++next) {
        const auto& enc = per_word[next];
        if (!enc) {
          failed = true;
          continue;
        }
        auto append = [](auto& to, const auto& from) { to.insert(to.end(), from.begin(), from.end()); };
        append(expected.ids, enc->ids);
        append(expected.type_ids, enc->type_ids);
        append(expected.attention_mask, enc->attention_mask);
        append(expected.special_tokens_mask, enc->special_tokens_mask);
        append(expected.offsets, enc->offsets);
        append(expected.sequence_ids, enc->sequence_ids);
        expected.word_ids.insert(expected.word_ids.end(), enc->ids.size(), static_cast<int32_t>(w));
      }
      words_compared += sentence.size();
      std::optional<Encoding> mine;
      try {
        mine = tok.encode_words(sentence, std::nullopt, task.options);
      } catch (const std::exception&) {
      }
      std::string joined;
      for (const std::string& w : sentence) joined += (joined.empty() ? "" : " ") + w;
      c.compare({joined, std::nullopt}, mine, failed ? std::nullopt : std::optional<OracleEncoding>(expected),
                v.name + " / pre-tokenized words", true);
    }
    std::cout << "[" << v.name << " pre-tokenized] sentences " << c.records << " (WNUT-17 " << conll_sentences
              << ", corpus lines " << c.records - conll_sentences << "), words " << words_compared << ", tokens "
              << c.tokens << ", mismatches " << c.mismatches << "\n";
    for (const std::string& m : c.first_mismatches) std::cout << "  " << m << "\n";
    EXPECT_EQ(c.mismatches, 0u) << v.name << " pre-tokenized";
  }
  std::cout << "[total] " << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s\n";
}
