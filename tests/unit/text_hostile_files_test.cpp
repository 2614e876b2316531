// Tokenizer files crafted by a hostile user (issue 19): out-of-range token ids are errors naming the token (they
// used to wrap: 2^40 became id 0, [PAD]), and deep JSON nesting in any tokenizer file is an error, not a segfault.
#include <gtest/gtest.h>

#include <filesystem>
#include <functional>
#include <string>

#include "core/error.h"
#include "core/fs.h"
#include "text/tokenizer.h"
#include "error_text.h"
#include "test_util.h"

using namespace accent;
using accent::testing::TempDir;
using accent::testing::error_of;

namespace {

const std::string kBertDir = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/bert-base-uncased";


// A WordPiece tokenizer.json whose vocabulary maps "hello" to `hello_id`.
std::string wordpiece_json(const std::string& hello_id, const std::string& cls_id = "2") {
  return R"({"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"BertPreTokenizer"},
    "post_processor":{"type":"BertProcessing","sep":["[SEP]",3],"cls":["[CLS]",)" + cls_id + R"(]},
    "decoder":null,"model":{"type":"WordPiece","unk_token":"[UNK]","continuing_subword_prefix":"##",
    "max_input_chars_per_word":100,"vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3,"hello":)" + hello_id + "}}}";
}

TEST(HostileTokenizerFiles, OutOfRangeIdsNameTheToken) {
  TempDir dir("hostile_ids");
  write_file_atomic(dir.file("ok.json"), wordpiece_json("4"));
  EXPECT_EQ(Tokenizer::from_pretrained(dir.file("ok.json")).encode("hello").ids, (std::vector<int32_t>{2, 4, 3}));
  for (const std::string id : {"1099511627776", "4294967296", "2147483648", "-1", "4.5", "\"4\""}) {
    write_file_atomic(dir.file("t.json"), wordpiece_json(id));
    const std::string m = error_of([&] { Tokenizer::from_pretrained(dir.file("t.json")); });
    EXPECT_NE(m.find("model.vocab: the id of token \"hello\" is " + id + "; expected an integer in 0..2147483647"),
              std::string::npos) << m;
  }
  write_file_atomic(dir.file("cls.json"), wordpiece_json("4", "1099511627776"));
  EXPECT_NE(error_of([&] { Tokenizer::from_pretrained(dir.file("cls.json")); }).find("the id of token \"[CLS]\""),
            std::string::npos);
  // vocab.json of a GPT-2 tokenizer, and added_tokens.json beside vocab.txt.
  write_file_atomic(dir.file("vocab.json"), R"({"a": 0, "b": 1099511627776})");
  write_file_atomic(dir.file("merges.txt"), "#version: 0.2\n");
  EXPECT_NE(error_of([&] { Tokenizer::from_gpt2_files(dir.file("vocab.json"), dir.file("merges.txt")); })
                .find("vocab.json: the id of token \"b\" is 1099511627776"), std::string::npos);
  std::filesystem::create_directories(dir.path / "bert");
  std::filesystem::copy_file(kBertDir + "/vocab.txt", dir.path / "bert/vocab.txt");
  write_file_atomic(dir.file("bert/added_tokens.json"), R"({"<new>": 1099511627776})");
  EXPECT_NE(error_of([&] { Tokenizer::from_pretrained(dir.str("bert")); })
                .find("added_tokens.json: the id of token \"<new>\" is 1099511627776"), std::string::npos);
}

TEST(HostileTokenizerFiles, DeepNestingInAnyTokenizerFileIsAnError) {
  TempDir dir("hostile_deep");
  const std::string deep(100000, '[');
  struct Case {
    std::string file, text;
  };
  for (const Case& c : {Case{"tokenizer_config.json", "{\"x\": " + deep + "}"}, Case{"tokenizer_config.json", deep},
                        Case{"special_tokens_map.json", "{\"x\": " + deep + "}"},
                        Case{"added_tokens.json", "{\"x\": " + deep + "}"}, Case{"tokenizer.json", deep}}) {
    std::filesystem::remove_all(dir.path / "m");
    std::filesystem::create_directories(dir.path / "m");
    std::filesystem::copy_file(kBertDir + "/vocab.txt", dir.path / "m/vocab.txt");
    write_file_atomic(dir.file("m/" + c.file), c.text);
    const std::string m = error_of([&] { Tokenizer::from_pretrained(dir.str("m")); });
    EXPECT_NE(m.find(c.file + ": JSON nests deeper than 128 levels"), std::string::npos) << c.file << ": " << m;
  }
}

// Issue 19 item 11: keys out of range in tokenizer.json are errors naming the key (tokenizers refuses them too).
TEST(HostileTokenizerFiles, KeysOutOfRangeAreErrors) {
  TempDir dir("hostile_keys");
  std::string wp = wordpiece_json("4");
  const std::string key = "\"max_input_chars_per_word\":100";
  wp.replace(wp.find(key), key.size(), "\"max_input_chars_per_word\":-1");
  write_file_atomic(dir.file("wp.json"), wp);
  EXPECT_NE(error_of([&] { Tokenizer::from_pretrained(dir.file("wp.json")); })
                .find("model.max_input_chars_per_word is -1; expected a non-negative integer"), std::string::npos);
  write_file_atomic(dir.file("bpe.json"), R"({"version":"1.0","added_tokens":[],"normalizer":null,
    "pre_tokenizer":{"type":"ByteLevel","add_prefix_space":false,"trim_offsets":true,"use_regex":true},
    "post_processor":null,"decoder":null,"model":{"type":"BPE","vocab":{"a":0,"b":1}}})");
  EXPECT_NE(error_of([&] { Tokenizer::from_pretrained(dir.file("bpe.json")); }).find("model.merges is missing"),
            std::string::npos);
}

// Found by fuzz/tokenizer_files_fuzz: a template item or special token without a key read a const json with
// operator[] (undefined behaviour, an assertion in debug builds); now a clear error.
TEST(HostileTokenizerFiles, TemplateItemsWithMissingKeysAreErrors) {
  TempDir dir("hostile_template");
  const std::string head = R"({"version":"1.0","added_tokens":[],"normalizer":null,"pre_tokenizer":{"type":"BertPreTokenizer"},
    "decoder":null,"model":{"type":"WordPiece","unk_token":"[UNK]","vocab":{"[PAD]":0,"[UNK]":1,"[CLS]":2,"[SEP]":3}},
    "post_processor":{"type":"TemplateProcessing",)";
  for (const std::string& post :
       {std::string(R"("single":[{"Sequence":{"od":"A","type_id":0}}],"pair":null,"special_tokens":{}}})"),
        std::string(R"("single":[{"SpecialToken":{"type_id":0}}],"pair":null,"special_tokens":{}}})"),
        std::string(R"("single":null,"pair":null,"special_tokens":{"[CLS]":{"id":"[CLS]","ids":[2]}}}})"),
        std::string(R"("single":null,"pair":null,"special_tokens":{"[CLS]":{"id":"[CLS]","tokens":["[CLS]"]}}}})")}) {
    write_file_atomic(dir.file("t.json"), head + post);
    const std::string m = error_of([&] { Tokenizer::from_pretrained(dir.file("t.json")); });
    EXPECT_NE(m.find("t.json: unexpected structure"), std::string::npos) << post << ": " << m;
  }
}

}  // namespace

// Found by fuzz/tokenizer_files_fuzz (CI, 2026-12-06): tokenizer_config.json values of the wrong JSON type escaped as
// nlohmann exceptions (a crash of the fuzzer, a terminate in a program that catches accent::Error); now an error
// naming the file or directory.
TEST(HostileTokenizerFiles, WrongJsonTypesInTokenizerConfigAreErrors) {
  struct Case {
    std::string config, expected;
  };
  for (const Case& c :
       {Case{R"({"added_tokens_decoder": {"4": {"content": true}}})", "content must be a string"},
        Case{R"({"added_tokens_decoder": {"4": {"content": "[X]", "special": "yes"}}})", "unexpected structure"}}) {
    TempDir dir("hostile_types");
    std::filesystem::copy_file(kBertDir + "/vocab.txt", dir.file("vocab.txt"));
    write_file_atomic(dir.file("tokenizer_config.json"), c.config);
    const std::string error = error_of([&] { Tokenizer::from_pretrained(dir.path.string()); });
    EXPECT_NE(error.find(c.expected), std::string::npos) << c.config << " → " << error;
  }
}
