// Proof of exactness for LoRA: accent's LoraModel (models/peft_adapter.h, nn/lora.h) against the PyTorch twin
// with PEFT's math (tests/reference/lora_twin.py) on a tiny BERT, a tiny GPT-2 (LoRA around Conv1D,
// fan_in_fan_out), a tiny Qwen2 and a tiny Llama. The twin writes the adapter in PEFT's own file
// layout (with the extra config keys PEFT versions write), so loading a PEFT adapter is tested too. Compared:
// logits (≤ 1e-5 absolute), loss (≤ 1e-5 relative), the gradients of every A, B, the head and trained biases
// (≤ 1e-4 relative as for full fine-tuning, models_twin_check.h); frozen tensors get no gradient buffer; a merged
// model gives the adapter model's logits within 1e-5 (in accent, and in the twin reading the merged directory).
#include <gtest/gtest.h>

#include <map>
#include <set>

#include "models/peft_adapter.h"
#include "models/registry.h"
#include "models_family_twin_util.h"
#include "models_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

// `family` is bert, gpt2, qwen2, llama, modernbert or deberta-v2 (lora_twin.py --family); the merged directory is read back by that family's twin.
void check_lora_against_twin(const std::string& family, const std::string& tag, const std::string& args,
                             size_t expected_adapters) {
  TempDir dir("lora_twin_" + tag);
  run_lora_twin(dir.str(), "--family " + family + " " + args);
  auto model = load_lora_model(dir / "adapter", dir.str());
  EXPECT_EQ(model->adapters().size(), expected_adapters);
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  auto expected = SafetensorsFile::open(dir / "lora_expected.safetensors");
  const Tensor want_logits = expected->load("logits");
  const float want_loss = expected->load("loss").f32()[0];

  const ForwardResult eval = model->forward(batch);
  EXPECT_LE(max_abs_diff(eval.logits, want_logits), 1e-5) << "inference logits";
  EXPECT_NEAR(eval.loss, want_loss, 1e-5 * std::max(1.0f, std::fabs(want_loss)));

  Rng rng(7);
  const ForwardResult train = model->forward_backward(batch, rng);
  EXPECT_LE(max_abs_diff(train.logits, want_logits), 1e-5) << "training logits";
  EXPECT_NEAR(train.loss, want_loss, 1e-5 * std::max(1.0f, std::fabs(want_loss)));

  // Exactly the twin's trainable tensors are trainable; every other one has no gradient buffer.
  std::set<std::string> twin_trainable;
  for (const std::string& n : expected->names())
    if (n.rfind("grad.", 0) == 0) twin_trainable.insert(n.substr(5));
  double scale = 0;
  for (const std::string& n : twin_trainable) scale = std::max(scale, max_abs(expected->load("grad64." + n)));
  std::set<std::string> ours;
  double worst = 0;
  for (Parameter* p : model->parameters()) {
    if (!p->trainable) {
      EXPECT_EQ(p->grad.numel(), 0) << p->name << " is frozen but holds a gradient buffer";
      continue;
    }
    ours.insert(p->name);
    ASSERT_TRUE(twin_trainable.count(p->name)) << p->name << " is trainable in accent but not in PEFT";
    const double vs_torch = relative_diff(p->grad, expected->load("grad." + p->name), 1e-3 * scale);
    const double vs_exact = relative_diff(p->grad, expected->load("grad64." + p->name), 1e-3 * scale);
    EXPECT_LE(vs_torch, 1e-4) << p->name << " vs PyTorch fp32";
    EXPECT_LE(vs_exact, 1e-4) << p->name << " vs float64";
    worst = std::max(worst, vs_torch);
  }
  EXPECT_EQ(ours, twin_trainable);
  std::cout << "[lora twin " << family << " " << tag << "] logits max|diff| " << max_abs_diff(train.logits, want_logits) << ", loss "
            << train.loss << " vs " << want_loss << ", " << ours.size() << " trainable tensors, worst gradient diff "
            << worst << "\n";

  // Merge: W + scale·B·A folded in gives the same logits, in accent and in the twin reading the saved directory.
  std::unique_ptr<SequenceClassifier> merged = model->merge_and_unload();
  const ForwardResult m = merged->forward(batch);
  EXPECT_LE(max_abs_diff(m.logits, eval.logits), 1e-5) << "merged vs adapter logits";
  std::cout << "[lora twin " << family << " " << tag << "] merged vs adapter logits max|diff| "
            << max_abs_diff(m.logits, eval.logits) << "\n";
  merged->save_pretrained(dir / "merged");
  const std::string twin_logits = family == "bert" ? "/tests/reference/bert_twin.py logits"
                                                    : "/tests/reference/family_twin.py logits --family " + family;
  const std::string cmd = "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + twin_logits + " --model " +
                          dir / "merged" + " --inputs " + dir / "inputs.safetensors" + " --out " + dir / "merged_logits.safetensors";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  EXPECT_LE(max_abs_diff(SafetensorsFile::open(dir / "merged_logits.safetensors")->load("logits"), want_logits), 1e-5)
      << "PyTorch on the merged directory vs the adapter model";
}

}  // namespace

// 2 layers × {query, value}.
TEST(LoraTwin, QueryValueDefaults) { check_lora_against_twin("bert", "qv", "--targets query,value --r 4 --alpha 8", 4); }
// all-linear (6 per layer + pooler, never the classifier), rsLoRA scaling, bias="all".
TEST(LoraTwin, AllLinearRsloraBiasAll) {
  check_lora_against_twin("bert", "all", "--targets all-linear --r 3 --alpha 6 --rslora --bias all", 13);
}
// GPT-2, PEFT's default target: 2 layers × c_attn (Conv1D, fan_in_fan_out); the score head trained in full.
TEST(LoraTwin, Gpt2CAttn) { check_lora_against_twin("gpt2", "gpt2_c_attn", "--targets c_attn --r 4 --alpha 8", 2); }
// GPT-2 all-linear: every Conv1D (c_attn, attn.c_proj, c_fc, mlp.c_proj) × 2 layers, never score; rsLoRA, bias=all.
TEST(LoraTwin, Gpt2AllLinearRsloraBiasAll) {
  check_lora_against_twin("gpt2", "gpt2_all", "--targets all-linear --r 3 --alpha 6 --rslora --bias all", 8);
}

// Qwen2 with PEFT's default targets for it (q_proj, v_proj), and Llama all-linear (7 projections × 2 layers, never
// score) with rsLoRA and bias="all" (Llama's attention_bias/mlp_bias are on in the twin).
TEST(LoraTwin, Qwen2QProjVProj) {
  check_lora_against_twin("qwen2", "qwen2_qv", "--targets q_proj,v_proj --r 4 --alpha 8", 4);
}
TEST(LoraTwin, LlamaAllLinearRsloraBiasAll) {
  check_lora_against_twin("llama", "llama_all", "--targets all-linear --r 3 --alpha 6 --rslora --bias all", 14);
}

// ModernBERT has no PEFT default targets: Wqkv and Wo, which as in PEFT (a name matches by its last components) is
// attn.Wqkv, attn.Wo and mlp.Wo × 3 layers = 9; then all-linear, which wraps every
// Linear but the output layer (4 per layer + the prediction head's dense = 13), rsLoRA.
TEST(LoraTwin, ModernBertWqkvWo) {
  check_lora_against_twin("modernbert", "modernbert_attn", "--targets Wqkv,Wo --r 4 --alpha 8", 9);
}
TEST(LoraTwin, ModernBertAllLinearRslora) {
  check_lora_against_twin("modernbert", "modernbert_all", "--targets all-linear --r 3 --alpha 6 --rslora", 13);
}

// DeBERTa-v2 with PEFT's defaults (query_proj, value_proj × 2 layers), then all-linear (6 per layer + pooler.dense),
// rsLoRA, bias="all": query_proj and key_proj also project the relative embeddings, through the adapter, as PEFT's
// wrapped module does.
TEST(LoraTwin, DebertaV2Defaults) {
  check_lora_against_twin("deberta-v2", "deberta_qv", "--targets query_proj,value_proj --r 4 --alpha 8", 4);
}
TEST(LoraTwin, DebertaV2AllLinearRsloraBiasAll) {
  check_lora_against_twin("deberta-v2", "deberta_all", "--targets all-linear --r 3 --alpha 6 --rslora --bias all", 13);
}

// Under bf16 mixed precision on the CPU the frozen base's Linear weights are held in bf16 only (nn/linear.h): the
// same logits, loss and adapter gradients bit for bit as fp32 masters with their bf16 copies (the products read the
// same bf16 bits), a third of the weight memory; an fp32 context and the merge widen them back.
TEST(LoraTwin, FrozenBaseHeldInBf16UnderBf16Precision) {
  TempDir dir("lora_bf16_base");
  run_lora_twin(dir.str(), "--family qwen2 --targets q_proj,v_proj --r 4 --alpha 8");
  const Batch batch = read_twin_batch(dir / "inputs.safetensors");
  const OpContext bf16{Backend::Cpu, Precision::BF16};
  auto held = load_lora_model(dir / "adapter", dir.str());
  held->set_op_context(bf16);
  auto masters = load_lora_model(dir / "adapter", dir.str());
  masters->set_op_context(OpContext{Backend::Cpu, Precision::F32});
  dynamic_cast<LoraModel&>(*masters).base().set_op_context(bf16);  // bf16 products, fp32 masters kept

  int64_t held_weights = 0, fp32_frozen_linears = 0;
  for (const NamedLinear& nl : held->linear_modules()) {
    if (nl.weight().trainable) {
      EXPECT_EQ(nl.weight().value.dtype(), DType::F32) << nl.name;
      continue;
    }
    held_weights += nl.weight().value.dtype() == DType::BF16;
    fp32_frozen_linears += 1;
  }
  EXPECT_EQ(held_weights, fp32_frozen_linears);
  EXPECT_EQ(held_weights, 2 * 7);  // q, k, v, o, gate, up, down × 2 layers
  for (const NamedLinear& nl : masters->linear_modules()) EXPECT_EQ(nl.weight().value.dtype(), DType::F32) << nl.name;

  Rng rng_a(5), rng_b(5);
  const ForwardResult a = held->forward_backward(batch, rng_a), b = masters->forward_backward(batch, rng_b);
  EXPECT_EQ(max_abs_diff(a.logits, b.logits), 0.0);
  EXPECT_EQ(a.loss, b.loss);
  const ParameterList pa = held->parameters(), pb = masters->parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (size_t i = 0; i < pa.size(); ++i)
    if (pa[i]->trainable) EXPECT_EQ(max_abs_diff(pa[i]->grad, pb[i]->grad), 0.0) << pa[i]->name;

  held->set_op_context(OpContext{Backend::Cpu, Precision::F32});  // widened back: fp32 products run again
  for (const NamedLinear& nl : held->linear_modules()) EXPECT_EQ(nl.weight().value.dtype(), DType::F32) << nl.name;
  const Tensor want = SafetensorsFile::open(dir / "lora_expected.safetensors")->load("logits");
  EXPECT_LE(max_abs_diff(held->forward(batch).logits, want), 2e-2) << "bf16-rounded base weights";
  held->set_op_context(bf16);
  auto merged = dynamic_cast<LoraModel&>(*held).merge_and_unload();
  for (Parameter* p : merged->parameters()) EXPECT_EQ(p->value.dtype(), DType::F32) << p->name;
}

TEST(LoraTwin, BadInputs) {
  TempDir dir("lora_bad");
  run_lora_twin(dir.str(), "--targets query,value --r 4 --alpha 8");
  LoadOptions lo;
  lo.print_warnings = false;
  auto expect_error = [&](LoraConfig c, const std::string& needle) {
    try {
      LoraModel m(load_sequence_classifier(dir.str(), lo), c, 0);
      ADD_FAILURE() << "no error for " << needle;
    } catch (const Error& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  LoraConfig c;
  c.target_modules = {"qurey"};
  expect_error(c, "valid names: dense, key, query, value");
  c.target_modules = {"query"};
  c.hyper.r = 0;
  expect_error(c, "rank r must be an integer in [1, 65536], got 0");
  c.hyper.r = 4;
  c.hyper.alpha = -1;
  expect_error(c, "lora_alpha must be positive");
  c.hyper.alpha = 8;
  c.bias = "some";
  expect_error(c, "none, all or lora_only");
}

TEST(LoraTwin, HeadTensorsArePeftModulesToSave) {
  // PEFT wraps every module whose name ends with "classifier" or "score" (a plain suffix) and trains it whole:
  // RoBERTa's and ELECTRA's two-layer head, DistilBERT's pre_classifier too. PeftModel.from_pretrained (PEFT 0.21,
  // on the GPU machine) raised KeyError for exactly these tensors when accent trained only the last Linear.
  const std::map<std::string, std::set<std::string>> expected{
      {"roberta", {"classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
                   "classifier.out_proj.bias"}},
      {"electra", {"classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight",
                   "classifier.out_proj.bias"}},
      {"distilbert", {"pre_classifier.weight", "pre_classifier.bias", "classifier.weight", "classifier.bias"}},
      {"gpt2", {"score.weight"}}};
  for (const auto& [family, heads] : expected) {
    TempDir dir("lora_heads_" + family);
    run_family_twin(dir.str(), family, "single", "gelu");
    LoraModel model(load_sequence_classifier(dir.str(), quiet_load()), LoraConfig{}, 0);
    std::set<std::string> trainable;
    for (Parameter* p : model.base().parameters())
      if (p->trainable) trainable.insert(p->name);
    EXPECT_EQ(trainable, heads) << family;
    std::set<std::string> saved;
    for (const auto& [name, tensor] : model.adapter_tensors())
      if (name.find("lora_") == std::string::npos) saved.insert(name.substr(std::string("base_model.model.").size()));
    EXPECT_EQ(saved, heads) << family << ": the adapter file must hold the whole head";
  }
}
