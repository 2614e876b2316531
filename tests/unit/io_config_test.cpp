// Tests for io/config and io/python_json: field mapping per family, labels, errors, and byte-exact output
// against Python's json module (/usr/bin/python3) and the real bert-base-uncased config.json.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>

#include "core/error.h"
#include "core/fs.h"
#include "io/config.h"
#include "io/python_json.h"
#include "test_util.h"

using namespace accent::testing;

using namespace accent;
namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
// Python: json.dumps(json.load(f), indent=2, sort_keys=True) + "\n" — what transformers writes.
std::string python_redump(const std::string& path, const std::string& transform = "") {
  const std::string script = "import json,sys\nd=json.load(open(sys.argv[1]))\n" + transform +
                             "sys.stdout.write(json.dumps(d, indent=2, sort_keys=True) + '\\n')\n";
  TempDir dir;
  std::ofstream(dir / "redump.py") << script;
  return run_capture("/usr/bin/python3 " + (dir / "redump.py") + " " + path);
}

void expect_error(const json& j, const std::string& needle) {
  try {
    parse_config(j, "some/config.json");
    ADD_FAILURE() << "no error; expected: " << needle;
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("some/config.json"), std::string::npos) << msg;
    EXPECT_NE(msg.find(needle), std::string::npos) << "expected \"" << needle << "\" in: " << msg;
  }
}
}  // namespace

TEST(PythonJson, FloatReprMatchesPython) {
  const std::vector<double> values = {0.1,    0.02,  1e-12, 1e-5,   1e-4,  0.0001234, 1.0,  -0.0,   0.0,  100.0,
                                      1e16,   1e15,  1234567890123456.0,  12345678901234567.0, 5e-324, 1.7976931348623157e308,
                                      2.5e-5, 0.3,   1.0 / 3, -2.75,  123.456, 1e22, 3e-7, 0.2, 0.15};
  TempDir dir;
  json arr = json::array();
  for (double v : values) arr.push_back(v);
  std::ofstream(dir / "floats.json") << arr.dump(-1, ' ', false, json::error_handler_t::strict);
  // Python reads the (exact, round-trip) numbers and prints repr() of each.
  const std::string py = run_capture("/usr/bin/python3 -c 'import json,sys; print(\"\\n\".join(repr(x) for x in json.load(open(sys.argv[1]))))' " +
                                     (dir / "floats.json"));
  std::string mine;
  for (double v : values) mine += python_float_repr(v) + "\n";
  EXPECT_EQ(mine, py);
  EXPECT_EQ(python_float_repr(NAN), "NaN");
  EXPECT_EQ(python_float_repr(-INFINITY), "-Infinity");
}

TEST(PythonJson, DumpsMatchesPythonIndent2SortKeys) {
  json j = {{"zeta", {1, 2.5, nullptr, true, false}},
            {"alpha", {{"nested", json::object()}, {"list", json::array()}, {"s", "quote\" back\\ tab\t nl\n"}}},
            {"unicode", "négatif 😀 日本 \x01\x7f"},
            {"Émoji key ✓", -3},
            {"big", 18446744073709551615ull},
            {"eps", 1e-12}};
  TempDir dir;
  const std::string mine = python_json_dumps(j, 2) + "\n";
  std::ofstream(dir / "in.json") << mine;
  EXPECT_EQ(mine, python_redump(dir / "in.json"));
  // The one-line form uses Python's default separators.
  EXPECT_EQ(python_json_dumps(json{{"b", 1}, {"a", {1, 2}}}, -1), R"({"a": [1, 2], "b": 1})");
}

TEST(Config, BertBaseUncasedLoadsAndSavesLikeTransformers) {
  const std::string path = std::string(ACCENT_TEST_DATA_DIR) + "/vocab/bert-base-uncased/config.json";
  ModelConfig c = load_config(path);
  EXPECT_EQ(c.model_type, "bert");
  EXPECT_EQ(c.architectures, std::vector<std::string>{"BertForMaskedLM"});
  EXPECT_EQ(c.vocab_size, 30522);
  EXPECT_EQ(c.hidden_size, 768);
  EXPECT_EQ(c.num_hidden_layers, 12);
  EXPECT_EQ(c.num_attention_heads, 12);
  EXPECT_EQ(c.intermediate_size, 3072);
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_EQ(c.type_vocab_size, 2);
  EXPECT_EQ(c.hidden_act, "gelu");
  EXPECT_EQ(c.layer_norm_eps, 1e-12);
  EXPECT_EQ(c.hidden_dropout_prob, 0.1);
  EXPECT_FALSE(c.classifier_dropout.has_value());
  EXPECT_EQ(c.pad_token_id, 0);
  EXPECT_EQ(c.num_labels(), 2);
  EXPECT_EQ(c.extra["gradient_checkpointing"], false);
  EXPECT_EQ(c.extra["use_cache"], true);
  EXPECT_FALSE(c.extra.contains("transformers_version"));

  TempDir dir;
  save_config(dir / "config.json", c);
  // transformers 4.44.2 re-saving this config adds classifier_dropout (a BertConfig attribute), torch_dtype and its
  // own version; everything else is kept as is.
  const std::string expected = python_redump(
      path, "d['classifier_dropout']=None\nd['torch_dtype']='float32'\nd['transformers_version']='4.44.2'\n");
  EXPECT_EQ(read_file(dir / "config.json"), expected);

  // Fine-tuned for 3 labels: id2label/label2id appear with string keys, problem_type once set.
  c.architectures = {"BertForSequenceClassification"};
  c.set_labels({"negative", "neutral", "positive"});
  c.problem_type = "single_label_classification";
  const json saved = json::parse(config_to_json_string(c));
  EXPECT_EQ(saved["id2label"], (json{{"0", "negative"}, {"1", "neutral"}, {"2", "positive"}}));
  EXPECT_EQ(saved["label2id"], (json{{"negative", 0}, {"neutral", 1}, {"positive", 2}}));
  EXPECT_EQ(saved["problem_type"], "single_label_classification");
  ModelConfig back = parse_config(saved, "saved");
  EXPECT_EQ(back.id2label, c.id2label);
  EXPECT_EQ(back.label2id, c.label2id);
  EXPECT_EQ(config_to_json_string(back), config_to_json_string(c));
}

TEST(Config, LabelsLegacyNumLabelsAndDefaults) {
  ModelConfig legacy = parse_config(json{{"model_type", "bert"}, {"num_labels", 3}}, "legacy.json");
  EXPECT_EQ(legacy.num_labels(), 3);
  EXPECT_EQ(legacy.id2label.at(2), "LABEL_2");
  EXPECT_EQ(legacy.label2id.at("LABEL_1"), 1);
  const json saved = json::parse(config_to_json_string(legacy));
  EXPECT_FALSE(saved.contains("num_labels"));
  EXPECT_EQ(saved["id2label"]["2"], "LABEL_2");

  ModelConfig two = parse_config(json{{"model_type", "bert"}}, "two.json");
  EXPECT_EQ(two.num_labels(), 2);
  const json saved_two = json::parse(config_to_json_string(two));
  EXPECT_FALSE(saved_two.contains("id2label"));
  EXPECT_FALSE(saved_two.contains("label2id"));

  // id2label without label2id: the inverse is derived.
  ModelConfig one = parse_config(json{{"model_type", "bert"}, {"id2label", {{"0", "score"}}}}, "one.json");
  EXPECT_EQ(one.num_labels(), 1);
  EXPECT_EQ(one.label2id.at("score"), 0);
}

TEST(Config, FamiliesMapTheirOwnKeysAndWriteThemBack) {
  const json distil = {{"model_type", "distilbert"}, {"dim", 512},       {"n_layers", 4},
                       {"n_heads", 8},               {"hidden_dim", 2048}, {"activation", "gelu"},
                       {"dropout", 0.15},            {"attention_dropout", 0.05},
                       {"seq_classif_dropout", 0.25}, {"sinusoidal_pos_embds", true}, {"vocab_size", 30522},
                       {"torch_dtype", "float16"},   {"transformers_version", "4.10.0"}};
  ModelConfig d = parse_config(distil, "distil.json");
  EXPECT_EQ(d.hidden_size, 512);
  EXPECT_EQ(d.num_hidden_layers, 4);
  EXPECT_EQ(d.num_attention_heads, 8);
  EXPECT_EQ(d.intermediate_size, 2048);
  EXPECT_EQ(d.hidden_dropout_prob, 0.15);
  EXPECT_EQ(d.attention_probs_dropout_prob, 0.05);
  EXPECT_EQ(d.classifier_dropout, 0.25);
  EXPECT_EQ(d.layer_norm_eps, 1e-12);
  EXPECT_EQ(d.type_vocab_size, 0);
  EXPECT_EQ(d.saved_dtype, "float16");
  EXPECT_EQ(d.extra["sinusoidal_pos_embds"], true);
  const json ds = json::parse(config_to_json_string(d));
  for (const char* key : {"dim", "n_layers", "n_heads", "hidden_dim", "activation", "dropout", "attention_dropout",
                          "seq_classif_dropout", "sinusoidal_pos_embds", "qa_dropout"})
    EXPECT_TRUE(ds.contains(key)) << key;
  for (const char* key : {"hidden_size", "num_hidden_layers", "intermediate_size", "hidden_act", "layer_norm_eps",
                          "type_vocab_size", "classifier_dropout", "position_embedding_type", "dtype"})
    EXPECT_FALSE(ds.contains(key)) << key;
  EXPECT_EQ(ds["dim"], 512);
  EXPECT_EQ(ds["torch_dtype"], "float32");
  EXPECT_EQ(ds["transformers_version"], "4.44.2");

  const json gpt2 = {{"model_type", "gpt2"},    {"n_embd", 768}, {"n_layer", 12}, {"n_head", 12},
                     {"n_inner", nullptr},      {"n_positions", 1024}, {"activation_function", "gelu_new"},
                     {"resid_pdrop", 0.1},      {"embd_pdrop", 0.1},   {"attn_pdrop", 0.1},
                     {"layer_norm_epsilon", 1e-05}, {"vocab_size", 50257}, {"n_ctx", 1024},
                     {"task_specific_params", {{"text-generation", {{"do_sample", true}, {"max_length", 50}}}}}};
  ModelConfig g = parse_config(gpt2, "gpt2/config.json");
  EXPECT_EQ(g.intermediate_size, 3072);
  EXPECT_EQ(g.max_position_embeddings, 1024);
  EXPECT_EQ(g.layer_norm_eps, 1e-5);
  EXPECT_EQ(g.hidden_act, "gelu_new");
  EXPECT_FALSE(g.pad_token_id.has_value());
  EXPECT_EQ(g.extra["embd_pdrop"], 0.1);
  const std::string gs_text = config_to_json_string(g);
  const json gs = json::parse(gs_text);
  EXPECT_TRUE(gs["n_inner"].is_null());
  EXPECT_EQ(gs["n_ctx"], 1024);
  EXPECT_EQ(gs["task_specific_params"]["text-generation"]["max_length"], 50);
  EXPECT_EQ(gs["bos_token_id"], 50256);
  EXPECT_FALSE(gs.contains("pad_token_id"));
  EXPECT_FALSE(gs.contains("hidden_size"));
  EXPECT_NE(gs_text.find("\"layer_norm_epsilon\": 1e-05,"), std::string::npos);
  g.intermediate_size = 1000;
  EXPECT_EQ(json::parse(config_to_json_string(g))["n_inner"], 1000);

  ModelConfig e = parse_config(json{{"model_type", "electra"}, {"embedding_size", 128}, {"hidden_size", 256}}, "e.json");
  EXPECT_EQ(e.embedding_size, 128);
  EXPECT_EQ(e.num_attention_heads, 4);  // ElectraConfig default
  EXPECT_EQ(json::parse(config_to_json_string(e))["embedding_size"], 128);

  ModelConfig rb = parse_config(json{{"model_type", "roberta"}, {"dtype", "bfloat16"}}, "r.json");
  EXPECT_EQ(rb.pad_token_id, 1);
  EXPECT_EQ(rb.saved_dtype, "bfloat16");
}

TEST(Config, UnknownKeysSurviveAndBaseDefaultsAreDropped) {
  const json in = {{"model_type", "bert"},
                   {"my_custom_key", {{"a", {1, 2, 3}}, {"b", "x"}}},
                   {"_name_or_path", "bert-base-uncased"},
                   {"output_hidden_states", false},  // base default → dropped like to_diff_dict
                   {"output_attentions", true},      // differs → kept
                   {"finetuning_task", nullptr}};
  const json out = json::parse(config_to_json_string(parse_config(in, "x.json")));
  EXPECT_EQ(out["my_custom_key"], in["my_custom_key"]);
  EXPECT_EQ(out["_name_or_path"], "bert-base-uncased");
  EXPECT_EQ(out["output_attentions"], true);
  EXPECT_FALSE(out.contains("output_hidden_states"));
  EXPECT_FALSE(out.contains("finetuning_task"));
  EXPECT_TRUE(out["classifier_dropout"].is_null());
  EXPECT_EQ(out["use_cache"], true);
}

TEST(Config, ErrorsNameFileAndKey) {
  expect_error(json{{"model_type", "bert"}, {"hidden_size", "768"}}, "key \"hidden_size\": expected an integer, got string");
  expect_error(json{{"model_type", "bert"}, {"hidden_size", 768.5}}, "key \"hidden_size\": expected an integer");
  expect_error(json{{"model_type", "bert"}, {"layer_norm_eps", "tiny"}}, "key \"layer_norm_eps\": expected a number");
  expect_error(json{{"model_type", "gpt2"}, {"n_embd", true}}, "key \"n_embd\"");
  expect_error(json{{"model_type", "bert"}, {"id2label", {{"zero", "a"}}}}, "\"zero\" is not an integer id");
  expect_error(json{{"model_type", "bert"}, {"id2label", {{"0", "a"}, {"2", "c"}}}}, "id 1 is missing");
  expect_error(json{{"model_type", "bert"}, {"id2label", {{"0", 5}}}}, "expected a string");
  expect_error(json{{"model_type", "bert"}, {"label2id", {{"a", "0"}}}}, "key \"label2id\"");
  expect_error(json{{"model_type", "bert"}, {"problem_type", "ranking"}}, "\"ranking\" is not one of");
  expect_error(json{{"model_type", 3}}, "key \"model_type\": expected a string");
  expect_error(json::array(), "config must be a JSON object");
  TempDir dir;
  std::ofstream(dir / "broken.json") << "{\"a\": ";
  try {
    load_config(dir / "broken.json");
    ADD_FAILURE() << "no error for broken JSON";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("broken.json: not valid JSON"), std::string::npos) << e.what();
  }
}

// Found by fuzz/config_fuzz (the save → parse → save fixed point). BERT's pad_token_id defaults to 0; an explicit
// null was dropped on save, so the file read back said 0 (transformers' to_diff_dict writes the null: None differs
// from BertConfig's default). GPT-2 has no pad default, so nothing is written there.
TEST(Config, ExplicitNullPadTokenIdSurvivesSaving) {
  const ModelConfig bert = parse_config_text(R"({"model_type":"bert","pad_token_id":null})", "bert/config.json");
  EXPECT_FALSE(bert.pad_token_id.has_value());
  const json saved = json::parse(config_to_json_string(bert));
  ASSERT_TRUE(saved.contains("pad_token_id"));
  EXPECT_TRUE(saved["pad_token_id"].is_null());
  EXPECT_FALSE(parse_config(saved, "saved").pad_token_id.has_value());
  const json gpt2 = json::parse(config_to_json_string(parse_config_text(R"({"model_type":"gpt2"})", "gpt2")));
  EXPECT_FALSE(gpt2.contains("pad_token_id"));
}

// Also from fuzz/config_fuzz: GPT-2's n_inner default 4·n_embd overflowed int64 (undefined behaviour) for a huge
// n_embd, and JSON nested a million levels deep overflowed the stack when dumped back (error messages, save).
TEST(Config, HostileNumbersAndNestingAreRefused) {
  try {
    parse_config_text(R"({"model_type":"gpt2","n_embd":4611686018427387904})", "big/config.json");
    ADD_FAILURE() << "n_embd 2^62 accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("n_embd"), std::string::npos) << e.what();
  }
  const ModelConfig explicit_inner =
      parse_config_text(R"({"model_type":"gpt2","n_embd":4611686018427387904,"n_inner":8})", "ok/config.json");
  EXPECT_EQ(json::parse(config_to_json_string(explicit_inner))["n_inner"], 8);

  const size_t depth = 1'000'000;
  TempDir dir;
  write_file_atomic(dir / "config.json", R"({"x":)" + std::string(depth, '[') + std::string(depth, ']') + "}");
  try {
    load_config(dir / "config.json");
    ADD_FAILURE() << "deeply nested config accepted";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("nests deeper than 512 levels"), std::string::npos) << e.what();
  }
  // 512 levels are fine and written back unchanged.
  const std::string ok = R"({"x":)" + std::string(511, '[') + std::string(511, ']') + "}";
  EXPECT_EQ(json::parse(config_to_json_string(parse_config_text(ok, "ok"))).at("x"), json::parse(ok).at("x"));
}
