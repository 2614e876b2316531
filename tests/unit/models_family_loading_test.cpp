// Loading and saving the non-BERT families: parameter names, pytorch_model.bin (alone, sharded, and losing to
// model.safetensors when both exist), save_pretrained read back by the PyTorch twin, random initialisation, the
// hub's GPT-2 base layout.
#include <filesystem>
#include <algorithm>
#include <map>
#include <tuple>
#include <optional>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "models/deberta_relative_positions.h"
#include "models_family_twin_util.h"

using namespace accent;
using namespace accent::testing;

TEST(FamilyLoading, RobertaArchitectureAndNames) {
  TempDir dir("family_names_roberta");
  run_family_twin(dir.str(), "roberta", "single", "gelu");
  LoadReport report;
  auto model = load_sequence_classifier(dir.str(), quiet_load(), &report);
  EXPECT_EQ(report.architecture, "RobertaForSequenceClassification");
  const ParameterList params = model->parameters();
  EXPECT_EQ(params.front()->name, "roberta.embeddings.word_embeddings.weight");
  EXPECT_EQ(params.back()->name, "classifier.out_proj.bias");
}

// pytorch_model.bin through the restricted reader: alone, sharded with an index, and ignored when
// model.safetensors is present (the twin writes a .bin with every value shifted by 1 next to it).
TEST(FamilyLoading, PytorchModelBinLoading) {
  TempDir dir("family_bin_distilbert");
  run_family_twin(dir.str(), "distilbert", "single", "gelu", /*with_bin=*/true);
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  const Tensor want = SafetensorsFile::open(dir / "expected.safetensors")->load("logits");
  for (const std::string& variant : {dir.str(), dir.str() + "_bin", dir.str() + "_sharded"}) {
    LoadReport report;
    auto model = load_sequence_classifier(variant, quiet_load(), &report);
    EXPECT_TRUE(report.missing_keys.empty()) << variant;
    EXPECT_TRUE(report.unexpected_keys.empty()) << variant;
    EXPECT_LE(max_abs_diff(model->forward(batch).logits, want), 1e-5) << variant;
  }
  std::filesystem::remove_all(dir.str() + "_bin");
  std::filesystem::remove_all(dir.str() + "_sharded");
}

// save_pretrained writes the family's layout; the twin computes the same logits from the saved directory.
TEST(FamilyLoading, SavePretrainedReadByTwin) {
  for (const std::string family : {"roberta", "electra", "distilbert", "gpt2", "qwen2", "llama", "modernbert", "deberta-v2"}) {
    TempDir dir("family_save_" + family);
    run_family_twin(dir.str(), family, "single", family == "qwen2" || family == "llama" ? "silu" : "gelu");
    auto model = load_sequence_classifier(dir.str(), quiet_load());
    const Batch batch = read_twin_batch(dir / "inputs.safetensors");
    const Tensor logits = model->forward(batch).logits;
    model->save_pretrained(dir / "saved");
    const auto config = load_config(dir / "saved/config.json");
    EXPECT_EQ(config.model_type, family);
    const std::string cmd = "/usr/bin/python3 " + kFamilyTwin + " logits --family " + family + " --model " +
                            (dir / "saved") + " --inputs " + (dir / "inputs.safetensors") + " --out " +
                            (dir / "twin_logits.safetensors");
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    EXPECT_LE(max_abs_diff(logits, SafetensorsFile::open(dir / "twin_logits.safetensors")->load("logits")), 1e-5)
        << family;
    // And accent reloads its own save to the same logits.
    EXPECT_LE(max_abs_diff(load_sequence_classifier(dir / "saved", quiet_load())->forward(batch).logits, logits), 0.0);
  }
}

// A random model per family (create_sequence_classifier) runs and initialises padding rows to zero.
TEST(FamilyLoading, RandomInitialisation) {
  TempDir dir("family_init_roberta");
  run_family_twin(dir.str(), "roberta", "single", "gelu");
  const ModelConfig config = load_config(dir / "config.json");
  auto model = create_sequence_classifier(config, 7);
  for (Parameter* p : model->parameters()) {
    if (p->name.find("position_embeddings") != std::string::npos || p->name.find("word_embeddings") != std::string::npos) {
      const int64_t H = p->value.dim(1);
      double row_pad = 0.0, row_next = 0.0;
      for (int64_t j = 0; j < H; ++j) row_pad += std::fabs(p->value.f32()[1 * H + j]), row_next += std::fabs(p->value.f32()[2 * H + j]);
      EXPECT_EQ(row_pad, 0.0) << p->name << ": padding row (pad_token_id 1) must be zero";
      EXPECT_GT(row_next, 0.0) << p->name;
    }
  }
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  EXPECT_EQ(model->forward(batch).logits.numel(), batch.B * 3);
}

// The hub's gpt2 checkpoint layout: GPT2Model keys without "transformer.", causal-mask buffers "h.L.attn.bias"
// and "h.L.attn.masked_bias" (dropped silently), no score head (missing, freshly initialised); pad_token_id
// null in config.json becomes the eos id.
TEST(FamilyLoading, Gpt2BaseCheckpointWithoutPrefix) {
  TempDir dir("family_gpt2_base");
  run_family_twin(dir.str(), "gpt2", "single", "gelu_new");
  auto twin = SafetensorsFile::open(dir / "model.safetensors");
  std::map<std::string, Tensor> base;
  for (const std::string& name : twin->names()) {
    if (name == "score.weight") continue;
    base[name.substr(std::string("transformer.").size())] = twin->load(name);
  }
  base["h.0.attn.bias"] = Tensor(DType::F32, {1, 1, 64, 64});
  base["h.0.attn.masked_bias"] = Tensor(DType::F32, {});
  std::filesystem::create_directories(dir / "base");
  save_safetensors(dir / "base/model.safetensors", base);
  nlohmann::json config = nlohmann::json::parse(read_file(dir / "config.json"));
  config["pad_token_id"] = nullptr;
  write_file_atomic(dir / "base/config.json", config.dump());
  LoadReport report;
  auto model = load_sequence_classifier(dir / "base", quiet_load(), &report);
  EXPECT_EQ(report.architecture, "GPT2ForSequenceClassification");
  EXPECT_EQ(report.missing_keys, std::vector<std::string>{"score.weight"});
  EXPECT_TRUE(report.unexpected_keys.empty());
  EXPECT_EQ(report.ignored_buffers.size(), 2u);
  ASSERT_TRUE(model->config()->pad_token_id.has_value());
  EXPECT_EQ(*model->config()->pad_token_id, config["eos_token_id"].get<int64_t>());
  const Tensor wte = twin->load("transformer.wte.weight");
  EXPECT_EQ(max_abs_diff(model->parameters().front()->value, wte), 0.0);
}

// The hub's Qwen2.5 layout: Qwen2ForCausalLM weights in bf16 (kept exactly: bf16 → fp32 is exact), an lm_head
// (unexpected, as transformers warns), an older file's rotary_emb.inv_freq buffer (dropped silently), no score head
// (missing, freshly initialised), no pad_token_id (the eos id pools, and is written into the saved config — the
// embedding's padding_idx stays none, as in HF's model built from that file).
TEST(FamilyLoading, Qwen2CausalLmCheckpointInBf16) {
  TempDir dir("family_qwen2_base");
  run_family_twin(dir.str(), "qwen2", "single", "silu");
  auto twin = SafetensorsFile::open(dir / "model.safetensors");
  std::map<std::string, Tensor> base;
  for (const std::string& name : twin->names())
    if (name != "score.weight") base[name] = twin->load(name).to(DType::BF16);
  base["lm_head.weight"] = twin->load("model.embed_tokens.weight").to(DType::BF16);
  base["model.layers.0.self_attn.rotary_emb.inv_freq"] = Tensor(DType::F32, {8});
  std::filesystem::create_directories(dir / "base");
  save_safetensors(dir / "base/model.safetensors", base);
  nlohmann::json config = nlohmann::json::parse(read_file(dir / "config.json"));
  config["torch_dtype"] = "bfloat16";
  write_file_atomic(dir / "base/config.json", config.dump());
  LoadReport report;
  auto model = load_sequence_classifier(dir / "base", quiet_load(), &report);
  EXPECT_EQ(report.architecture, "Qwen2ForSequenceClassification");
  EXPECT_EQ(report.missing_keys, std::vector<std::string>{"score.weight"});
  EXPECT_EQ(report.unexpected_keys, std::vector<std::string>{"lm_head.weight"});
  EXPECT_EQ(report.ignored_buffers, std::vector<std::string>{"model.layers.0.self_attn.rotary_emb.inv_freq"});
  ASSERT_TRUE(model->config()->pad_token_id.has_value());
  EXPECT_EQ(*model->config()->pad_token_id, config["eos_token_id"].get<int64_t>());
  for (Parameter* p : model->parameters())
    if (p->name != "score.weight") EXPECT_EQ(max_abs_diff(p->value, base[p->name].to(DType::F32)), 0.0) << p->name;
  model->save_pretrained(dir / "saved");
  const nlohmann::json saved = nlohmann::json::parse(read_file(dir / "saved/config.json"));
  EXPECT_EQ(saved["pad_token_id"], config["eos_token_id"]);
  EXPECT_EQ(saved["architectures"], nlohmann::json::array({"Qwen2ForSequenceClassification"}));
  EXPECT_EQ(saved["rope_theta"], config["rope_theta"]);
  EXPECT_EQ(saved["num_key_value_heads"], config["num_key_value_heads"]);
  EXPECT_EQ(saved["rms_norm_eps"], config["rms_norm_eps"]);
}

// Configs accent cannot run exactly are refused with the key named, not run approximately.
TEST(FamilyLoading, DecoderConfigsOutsideTheImplementationAreRefused) {
  TempDir dir("family_decoder_refusals");
  run_family_twin(dir.str(), "llama", "single", "silu");
  const nlohmann::json good = nlohmann::json::parse(read_file(dir / "config.json"));
  auto refused = [&](const std::string& what, const nlohmann::json& config, const std::string& needle) {
    write_file_atomic(dir / "config.json", config.dump());
    try {
      load_sequence_classifier(dir.str(), quiet_load());
      ADD_FAILURE() << what << ": loaded";
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << what << ": " << e.what();
    }
  };
  nlohmann::json c = good;
  c["rope_scaling"] = {{"rope_type", "yarn"}, {"factor", 4.0}};
  refused("yarn rope", c, "rope_scaling type \"yarn\"");
  c = good;
  c["num_key_value_heads"] = 3;
  refused("heads not a multiple", c, "num_key_value_heads 3");
  c = good;
  c["model_type"] = "qwen2";
  c["use_sliding_window"] = true;
  refused("sliding window", c, "use_sliding_window");
  c = good;
  c["head_dim"] = 7;
  refused("odd head_dim", c, "head_dim 7");
}

// ModernBERT's local window is in effect (the twin's layer 1 sees ±4 keys at T = 16): the same weights with a
// window wider than the sequence give other logits; and both config layouts (the hub's global_rope_theta /
// local_rope_theta / global_attn_every_n_layers, transformers 5's layer_types / rope_parameters) build one model.
TEST(FamilyLoading, ModernBertWindowAndBothConfigLayouts) {
  TempDir dir("family_modernbert_layouts");
  run_family_twin(dir.str(), "modernbert", "single", "gelu");
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  const Tensor want = SafetensorsFile::open(dir / "expected.safetensors")->load("logits");
  const nlohmann::json old_layout = nlohmann::json::parse(read_file(dir / "config.json"));
  auto logits_with = [&](const nlohmann::json& config) {
    write_file_atomic(dir / "config.json", config.dump());
    return load_sequence_classifier(dir.str(), quiet_load())->forward(batch).logits;
  };
  EXPECT_LE(max_abs_diff(logits_with(old_layout), want), 1e-5);
  nlohmann::json wide = old_layout;
  wide["local_attention"] = 64;
  EXPECT_GT(max_abs_diff(logits_with(wide), want), 1e-3) << "the local window changed nothing: the check is void";
  nlohmann::json v5 = old_layout;
  for (const char* key : {"global_rope_theta", "local_rope_theta", "global_attn_every_n_layers"}) v5.erase(key);
  v5["global_attn_every_n_layers"] = 2;  // still read for the window, as HF's attention does
  v5["layer_types"] = {"full_attention", "sliding_attention", "full_attention"};
  v5["rope_parameters"] = {{"full_attention", {{"rope_type", "default"}, {"rope_theta", 160000.0}}},
                           {"sliding_attention", {{"rope_type", "default"}, {"rope_theta", 10000.0}}}};
  EXPECT_LE(max_abs_diff(logits_with(v5), want), 1e-5);
  nlohmann::json swapped = v5;  // the thetas matter: swapping them changes the logits
  swapped["rope_parameters"]["full_attention"]["rope_theta"] = 10000.0;
  swapped["rope_parameters"]["sliding_attention"]["rope_theta"] = 160000.0;
  EXPECT_GT(max_abs_diff(logits_with(swapped), want), 1e-4);
  write_file_atomic(dir / "config.json", old_layout.dump());
}

// Writes `config` into the twin directory `dir` and expects loading it (for `task`) to fail with `needle`.
void expect_refused(const TempDir& dir, const std::string& what, const nlohmann::json& config, const std::string& needle,
                    std::optional<ModelTask> task) {
  write_file_atomic(dir / "config.json", config.dump());
  LoadOptions o = quiet_load();
  o.task = task;
  if (task == ModelTask::QuestionAnswering) o.num_labels = 2;
  try {
    load_sequence_classifier(dir.str(), o);
    ADD_FAILURE() << what << ": loaded";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << what << ": " << e.what();
  }
}

TEST(FamilyLoading, ModernBertRefusals) {
  TempDir dir("family_modernbert_refusals");
  run_family_twin(dir.str(), "modernbert", "single", "gelu");
  const nlohmann::json good = nlohmann::json::parse(read_file(dir / "config.json"));
  auto refused = [&](const std::string& what, const nlohmann::json& config, const std::string& needle,
                     std::optional<ModelTask> task = std::nullopt) { expect_refused(dir, what, config, needle, task); };
  refused("question answering", good, "question answering is not implemented for ModernBERT",
          ModelTask::QuestionAnswering);
  nlohmann::json c = good;
  c["classifier_pooling"] = "max";
  refused("pooling", c, "classifier_pooling \"max\"");
  c = good;
  c["rope_parameters"] = {{"full_attention", {{"rope_type", "yarn"}, {"rope_theta", 160000.0}}}};
  refused("rope type", c, "rope_type \"yarn\"");
  c = good;
  c["layer_types"] = {"full_attention"};
  refused("layer_types length", c, "layer_types has 1 entries for 3 layers");
}

TEST(FamilyLoading, DebertaV2Refusals) {
  TempDir dir("family_deberta_refusals");
  run_family_twin(dir.str(), "deberta-v2", "single", "gelu");
  const nlohmann::json good = nlohmann::json::parse(read_file(dir / "config.json"));
  auto refused = [&](const std::string& what, const nlohmann::json& config, const std::string& needle,
                     std::optional<ModelTask> task = std::nullopt) { expect_refused(dir, what, config, needle, task); };
  refused("question answering", good, "question answering is not implemented for DeBERTa-v2",
          ModelTask::QuestionAnswering);
  const std::vector<std::tuple<std::string, nlohmann::json, std::string>> cases = {
      {"relative_attention", false, "relative_attention false"},
      {"position_biased_input", true, "position_biased_input true"},
      {"type_vocab_size", 2, "type_vocab_size 2"},
      {"embedding_size", 32, "embedding_size 32"},
      {"share_att_key", false, "share_att_key false"},
      {"conv_kernel_size", 3, "conv_kernel_size"},
      {"norm_rel_ebd", "none", "norm_rel_ebd \"none\""},
      {"pos_att_type", {"p2c", "p2p"}, "pos_att_type \"p2p\""},
      {"pooler_hidden_size", 16, "pooler_hidden_size 16"}};
  for (const auto& [key, value, needle] : cases) {
    nlohmann::json c = good;
    c[key] = value;
    refused(key, c, needle);
  }
  // HF's older string form of pos_att_type reads as the list.
  nlohmann::json c = good;
  c["pos_att_type"] = "p2c|c2p";
  write_file_atomic(dir / "config.json", c.dump());
  auto model = load_sequence_classifier(dir.str(), quiet_load());
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  const Tensor want = SafetensorsFile::open(dir / "expected.safetensors")->load("logits");
  EXPECT_LE(max_abs_diff(model->forward(batch).logits, want), 1e-5);
}

// DeBERTa's log-bucket relative positions against HF's own function (tests/reference/deberta_bucket_check.py, the
// twin's make_log_bucket_position under torch.jit.script as HF runs it, float32) — DeBERTa-v3-base's 256 buckets /
// 512 positions over |i − j| ≤ 600 (the clamp at ±512 included) and the twins' 8 / 64.
TEST(FamilyLoading, DebertaLogBucketsMatchHf) {
  for (const auto& [buckets, max_position] : {std::pair<int64_t, int64_t>{256, 512}, {8, 64}}) {
    TempDir dir("deberta_buckets");
    const std::string out = dir / "table.json";
    const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                            "/tests/reference/deberta_bucket_check.py --buckets " + std::to_string(buckets) +
                            " --max-position " + std::to_string(max_position) + " --lo -600 --hi 600 > " + out;
    ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
    const nlohmann::json table = nlohmann::json::parse(read_file(out));
    const auto& rel = table["rel"];
    ASSERT_EQ(rel.size(), 1201u);
    int64_t differences = 0;
    for (size_t k = 0; k < rel.size(); ++k) {
      const int64_t r = rel[k].get<int64_t>();
      differences += deberta_log_bucket(r, buckets, max_position) != table["bucket"][k].get<int64_t>();
      const int64_t index = std::clamp<int64_t>(deberta_log_bucket(r, buckets, max_position) + buckets, 0, 2 * buckets - 1);
      differences += index != table["c2p_index"][k].get<int64_t>();
    }
    EXPECT_EQ(differences, 0) << buckets << "/" << max_position;
  }
  // The (T, T) index the layers read: row i, column j ↦ bucket(i − j) + span, clamped.
  const std::vector<int32_t> idx = deberta_relative_index(20, 8, 8, 64);
  EXPECT_EQ(idx[0 * 20 + 0], 8);
  EXPECT_EQ(idx[3 * 20 + 0], 11);
  EXPECT_EQ(idx[0 * 20 + 3], 5);
  EXPECT_EQ(idx[19 * 20 + 0], 8 + deberta_log_bucket(19, 8, 64));
}

// XLM-RoBERTa is RoBERTa's architecture under its own model_type/class name (base prefix still "roberta").
TEST(FamilyLoading, XlmRobertaIsRobertaUnderItsOwnName) {
  TempDir dir("family_xlmr");
  run_family_twin(dir.str(), "roberta", "single", "gelu");
  nlohmann::json config = nlohmann::json::parse(read_file(dir / "config.json"));
  config["model_type"] = "xlm-roberta";
  config["architectures"] = {"XLMRobertaForMaskedLM"};
  write_file_atomic(dir / "config.json", config.dump());
  LoadReport report;
  auto model = load_sequence_classifier(dir.str(), quiet_load(), &report);
  EXPECT_EQ(report.architecture, "XLMRobertaForSequenceClassification");
  EXPECT_TRUE(report.missing_keys.empty());
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  const Tensor want = SafetensorsFile::open(dir / "expected.safetensors")->load("logits");
  EXPECT_LE(max_abs_diff(model->forward(batch).logits, want), 1e-5);
  model->save_pretrained(dir / "saved");
  const auto saved = nlohmann::json::parse(read_file(dir / "saved/config.json"));
  EXPECT_EQ(saved["model_type"], "xlm-roberta");
  EXPECT_EQ(saved["architectures"], nlohmann::json::array({"XLMRobertaForSequenceClassification"}));
}
