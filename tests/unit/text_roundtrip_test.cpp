// save_pretrained → from_pretrained round trips for bert-base-uncased, roberta-base, gpt2 and a custom
// byte-level BPE with added [CLS]/[SEP]/[PAD]/[UNK]/[MASK] and a BERT template (Tokenizer::from_gpt2_files).
// Each saved tokenizer.json is also loaded by the HF oracle (node) and must encode like accent; the custom
// tokenizer is additionally compared with one the oracle builds itself (BPE.fromFile + addSpecialTokens +
// templateProcessing), so the factory is checked independently of accent's writer.
#include <gtest/gtest.h>

#include <filesystem>
#include <iostream>

#include "text/tokenizer.h"
#include "text_oracle_util.h"
#include "text_stress_corpus.h"

using namespace accent;
using namespace accent::testing;
using nlohmann::json;

namespace {

const std::string kVocab = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/";

json oracle_task(const json& spec, const std::string& input, const std::string& output, const Tokenizer& tok,
                 bool pad) {
  json t;
  t["tokenizer"] = spec;
  t["input"] = input;
  t["output"] = output;
  t["add_special_tokens"] = true;
  t["truncation"] = nullptr;
  t["padding"] = nullptr;
  t["batch"] = 16;
  if (pad) {
    t["truncation"] = {{"max_length", 40}, {"strategy", "LongestFirst"}, {"direction", "Right"}};
    t["padding"] = {{"max_length", nullptr}, {"direction", "Right"}, {"pad_to_multiple_of", 8},
                    {"pad_id", *tok.pad_token_id()}, {"pad_token", *tok.special_token("pad_token")}};
  }
  return t;
}

std::vector<std::optional<Encoding>> encode_all(const Tokenizer& tok, const std::vector<Record>& records, bool pad) {
  std::vector<std::optional<Encoding>> out;
  EncodeOptions o;
  if (pad) {
    o.truncation = TruncationStrategy::LongestFirst;
    o.max_length = 40;
    o.padding = PaddingStrategy::Longest;
    o.pad_to_multiple_of = 8;
  }
  for (size_t s = 0; s < records.size(); s += 16) {
    std::vector<std::pair<std::string, std::optional<std::string>>> batch;
    for (size_t k = s; k < records.size() && k < s + 16; ++k) batch.emplace_back(records[k].a, records[k].b);
    for (Encoding& e : tok.encode_batch(batch, o)) out.emplace_back(std::move(e));
  }
  return out;
}

}  // namespace

TEST(TokenizerRoundTrip, SaveLoadAndOracleLoadsSavedTokenizerJson) {
  TempDir tmp("roundtrip");
  const std::string corpus = tmp.file("corpus.bin");
  run_oracle("corpus '" + corpus + "' 2000");
  const std::vector<Record> real = read_records(corpus);
  const StressCorpus stress = make_stress_corpus();
  std::vector<Record> records;
  for (size_t i = 0; i < 2500; ++i) records.push_back({real[(i * 7717) % real.size()].a, std::nullopt});
  for (size_t i = 0; i < 1500; ++i) records.push_back({stress.lines[(i * 211) % stress.lines.size()], std::nullopt});
  for (size_t i = 0; i < 1000; ++i)
    records.push_back({real[(i * 3331) % real.size()].a, stress.lines[(i * 53) % stress.lines.size()]});
  // Text that contains the special tokens literally.
  records.push_back({"[CLS] hello [SEP] world [PAD][MASK] <|endoftext|>", std::string("[SEP]x [UNK]")});
  const std::string input = tmp.file("records.bin");
  write_records(input, records);

  Tokenizer::Gpt2Options custom_options;
  custom_options.extra_special_tokens = {"[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]"};
  custom_options.bert_template = true;
  custom_options.pad_token = "[PAD]";
  custom_options.mask_token = "[MASK]";
  custom_options.unk_token = "[UNK]";
  custom_options.model_max_length = 512;
  const Tokenizer custom = Tokenizer::from_gpt2_files(kVocab + "gpt2/vocab.json", kVocab + "gpt2/merges.txt", custom_options);
  EXPECT_EQ(*custom.token_to_id("[CLS]"), 50257);
  EXPECT_EQ(*custom.token_to_id("[MASK]"), 50261);
  EXPECT_EQ(custom.vocab_size(), 50262);
  EXPECT_EQ(custom.num_special_tokens_to_add(true), 3);
  EXPECT_TRUE(custom.returns_token_type_ids());
  EXPECT_EQ(custom.family(), TokenizerFamily::Custom);

  struct Case {
    std::string name;
    Tokenizer tok;
    bool pad;
  };
  std::vector<Case> cases;
  cases.push_back({"bert-base-uncased", Tokenizer::from_pretrained(kVocab + "bert-base-uncased"), true});
  cases.push_back({"roberta-base", Tokenizer::from_pretrained(kVocab + "roberta-base"), true});
  cases.push_back({"gpt2", Tokenizer::from_pretrained(kVocab + "gpt2"), false});
  cases.push_back({"gpt2-bert-template", custom, true});

  json job;
  job["tasks"] = json::array();
  std::vector<std::pair<std::string, size_t>> task_case;  // (label, case index)
  for (size_t c = 0; c < cases.size(); ++c) {
    const Case& k = cases[c];
    const std::string dir = tmp.file("saved_" + k.name);
    k.tok.save_pretrained(dir);
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"})
      EXPECT_TRUE(std::filesystem::exists(dir + "/" + f)) << k.name << " " << f;
    const json cfg = json::parse(slurp(dir + "/tokenizer_config.json"));
    const std::string cfg_text = slurp(dir + "/tokenizer_config.json");
    EXPECT_EQ(cfg_text.back(), '\n');
    EXPECT_TRUE(cfg.contains("added_tokens_decoder")) << k.name;
    if (k.name == "bert-base-uncased") {
      EXPECT_EQ(slurp(dir + "/vocab.txt"), slurp(kVocab + "bert-base-uncased/vocab.txt"));
      EXPECT_EQ(cfg["tokenizer_class"], "BertTokenizer");
      EXPECT_EQ(cfg["do_lower_case"], true);
      EXPECT_TRUE(cfg["strip_accents"].is_null());
      EXPECT_EQ(cfg["tokenize_chinese_chars"], true);
      // transformers' VERY_LARGE_INTEGER when no model_max_length is known.
      EXPECT_NE(cfg_text.find("\"model_max_length\": 1000000000000000019884624838656"), std::string::npos);
      EXPECT_EQ(json::parse(slurp(dir + "/special_tokens_map.json"))["pad_token"], "[PAD]");
      EXPECT_FALSE(std::filesystem::exists(dir + "/added_tokens.json"));
    } else {
      EXPECT_EQ(slurp(dir + "/merges.txt"), slurp(kVocab + "gpt2/merges.txt")) << k.name;
      EXPECT_EQ(cfg["add_prefix_space"], false) << k.name;
      const json vocab = json::parse(slurp(dir + "/vocab.json"));
      const json original = json::parse(slurp(kVocab + (k.name == "roberta-base" ? "roberta-base" : "gpt2") + "/vocab.json"));
      EXPECT_EQ(vocab, original) << k.name;
    }
    if (k.name == "roberta-base") {
      EXPECT_EQ(cfg["tokenizer_class"], "RobertaTokenizer");
      EXPECT_EQ(cfg["model_max_length"], 512);
      EXPECT_EQ(json::parse(slurp(dir + "/special_tokens_map.json"))["mask_token"]["lstrip"], true);
    }
    if (k.name == "gpt2") {
      EXPECT_EQ(cfg["tokenizer_class"], "GPT2Tokenizer");
      EXPECT_TRUE(cfg["pad_token"].is_null());
    }
    if (k.name == "gpt2-bert-template") {
      EXPECT_EQ(cfg["tokenizer_class"], "PreTrainedTokenizerFast");
      EXPECT_EQ(cfg["pad_token"], "[PAD]");
      EXPECT_EQ(cfg["model_input_names"], json({"input_ids", "token_type_ids", "attention_mask"}));
      const json added = json::parse(slurp(dir + "/added_tokens.json"));
      EXPECT_EQ(added, json({{"[CLS]", 50257}, {"[SEP]", 50258}, {"[PAD]", 50259}, {"[UNK]", 50260}, {"[MASK]", 50261}}));
    }

    // accent reloads the directory and encodes identically.
    const Tokenizer reloaded = Tokenizer::from_pretrained(dir);
    EXPECT_EQ(reloaded.family(), k.tok.family()) << k.name;
    EXPECT_EQ(reloaded.vocab_size(), k.tok.vocab_size()) << k.name;
    EXPECT_EQ(reloaded.model_max_length(), k.tok.model_max_length()) << k.name;
    EXPECT_EQ(reloaded.pad_token_id(), k.tok.pad_token_id()) << k.name;
    EXPECT_EQ(reloaded.returns_token_type_ids(), k.tok.returns_token_type_ids()) << k.name;
    const auto before = encode_all(k.tok, records, k.pad), after = encode_all(reloaded, records, k.pad);
    size_t diff = 0;
    for (size_t i = 0; i < records.size(); ++i) diff += before[i]->ids != after[i]->ids || before[i]->type_ids != after[i]->type_ids;
    EXPECT_EQ(diff, 0u) << k.name << ": reloaded tokenizer encodes differently";
    // Also the bare tokenizer.json path.
    EXPECT_EQ(Tokenizer::from_pretrained(dir + "/tokenizer.json").encode(records[0].a).ids, k.tok.encode(records[0].a).ids);

    // The oracle loads the saved tokenizer.json.
    json file_spec;
    file_spec["file"] = dir + "/tokenizer.json";
    job["tasks"].push_back(oracle_task(file_spec, input, tmp.file("out_" + k.name + ".bin"), k.tok, k.pad));
    task_case.emplace_back(k.name + " (saved tokenizer.json in HF)", c);
  }
  // The custom factory against an oracle-built equivalent.
  json gpt2_spec;
  gpt2_spec["gpt2"] = {{"vocab", kVocab + "gpt2/vocab.json"},
                       {"merges", kVocab + "gpt2/merges.txt"},
                       {"specials", custom_options.extra_special_tokens},
                       {"template", {{"single", "[CLS]:0 $A:0 [SEP]:0"},
                                     {"pair", "[CLS]:0 $A:0 [SEP]:0 $B:1 [SEP]:1"},
                                     {"special_tokens", {"[CLS]", "[SEP]"}}}}};
  job["tasks"].push_back(oracle_task(gpt2_spec, input, tmp.file("out_custom_oracle.bin"), custom, true));
  task_case.emplace_back("gpt2-bert-template (built by the oracle)", 3);
  const std::string job_file = tmp.file("job.json");
  { std::ofstream(job_file) << job.dump(); }
  run_oracle("encode '" + job_file + "'");

  for (size_t t = 0; t < task_case.size(); ++t) {
    const Case& k = cases[task_case[t].second];
    const auto theirs = read_results(job["tasks"][t]["output"].get<std::string>());
    const auto mine = encode_all(k.tok, records, k.pad);
    ASSERT_EQ(theirs.size(), records.size());
    Comparison cmp;
    for (size_t i = 0; i < records.size(); ++i) cmp.compare(records[i], mine[i], theirs[i], task_case[t].first);
    std::cout << "[" << task_case[t].first << "] records " << cmp.records << " (pairs " << cmp.pairs << "), tokens "
              << cmp.tokens << ", mismatches " << cmp.mismatches << "\n";
    for (const std::string& m : cmp.first_mismatches) std::cout << "  " << m << "\n";
    EXPECT_EQ(cmp.mismatches, 0u) << task_case[t].first;
  }
}
