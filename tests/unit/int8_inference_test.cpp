// Dynamic int8 inference (ops/matmul_int8.h, nn/int8_weight.h, models/int8_quantization.h): the quantizers against
// hand-computed values, oneDNN's int8 product against the ref triple loop, every family's int8 logits near its
// fp32 ones and equal between backends, and the saved int8 layout reloading to the very same model.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/rng.h"
#include "io/safetensors.h"
#include "models/int8_quantization.h"
#include "models/registry.h"
#include "models/transformer_classifier.h"
#include "nn/feed_forward.h"
#include "nn/self_attention.h"
#include "ops/activation.h"
#include "models_test_util.h"
#include "ops/matmul_int8.h"

using namespace accent;
using namespace accent::testing;

namespace {

std::vector<float> random_values(int64_t n, uint64_t seed, float scale = 1.0f) {
  Rng rng(seed);
  std::vector<float> v(static_cast<size_t>(n));
  for (float& x : v) x = scale * rng.normal();
  return v;
}

}  // namespace

TEST(Int8Quantize, RowsSymmetricRoundHalfEven) {
  // Row 0: max |x| = 1 → scale 1/127; 0.5·127 = 63.5 → 64 (half to even), 0.25·127 = 31.75 → 32.
  // Row 1: all zeros → scale 1, values 0. Row 2: max 2.54 → scale 0.02; 0.01/0.02 = 0.5 → 0 (half to even), -0.03/0.02
  // = -1.5 → -2.
  const std::vector<float> x = {0.5f, -1.0f, 0.25f, 0.0f, 0.0f, 0.0f, 0.01f, -0.03f, 2.54f};
  std::vector<int8_t> q(9);
  std::vector<float> scale(3);
  quantize_rows_s8(x.data(), 3, 3, q.data(), scale.data());
  EXPECT_FLOAT_EQ(scale[0], 1.0f / 127.0f);
  EXPECT_EQ(q[0], 64);
  EXPECT_EQ(q[1], -127);
  EXPECT_EQ(q[2], 32);
  EXPECT_EQ(scale[1], 1.0f);
  EXPECT_EQ(q[3], 0);
  EXPECT_EQ(q[5], 0);
  EXPECT_FLOAT_EQ(scale[2], 0.02f);
  EXPECT_EQ(q[6], 0);
  EXPECT_EQ(q[7], -2);
  EXPECT_EQ(q[8], 127);
}

TEST(Int8Quantize, ColumnsAreRowsOfTheTranspose) {
  const int64_t R = 7, C = 5;
  const std::vector<float> x = random_values(R * C, 3);
  std::vector<float> xt(static_cast<size_t>(R * C));
  for (int64_t r = 0; r < R; ++r)
    for (int64_t c = 0; c < C; ++c) xt[c * R + r] = x[r * C + c];
  std::vector<int8_t> qc(R * C), qr(R * C);
  std::vector<float> sc(C), sr(C);
  quantize_columns_s8(x.data(), R, C, qc.data(), sc.data());
  quantize_rows_s8(xt.data(), C, R, qr.data(), sr.data());
  for (int64_t c = 0; c < C; ++c) {
    EXPECT_EQ(sc[c], sr[c]);
    for (int64_t r = 0; r < R; ++r) EXPECT_EQ(qc[r * C + c], qr[c * R + r]);
  }
}

TEST(Int8Gemm, CpuMatchesRefAndApproximatesFp32) {
  for (bool trans_b : {true, false})
    for (bool with_bias : {true, false}) {
      SCOPED_TRACE(std::string(trans_b ? "B (N, K)" : "B (K, N)") + (with_bias ? " + bias" : ""));
      const int64_t M = 37, K = 96, N = 50;
      const std::vector<float> a = random_values(M * K, 1), w = random_values(N * K, 2, 0.05f),
                               bias = random_values(N, 4);
      // The weight as stored: (N, K) for trans_b, else (K, N); quantized per output channel n.
      std::vector<int8_t> wq(static_cast<size_t>(N * K));
      std::vector<float> ws(static_cast<size_t>(N));
      if (trans_b)
        quantize_rows_s8(w.data(), N, K, wq.data(), ws.data());
      else
        quantize_columns_s8(w.data(), K, N, wq.data(), ws.data());
      std::vector<int32_t> sums(static_cast<size_t>(N));
      int8_column_sums(wq.data(), K, N, trans_b, sums.data());
      int32_t expected_sum = 0;
      for (int64_t k = 0; k < K; ++k) expected_sum += trans_b ? wq[3 * K + k] : wq[k * N + 3];
      EXPECT_EQ(sums[3], expected_sum);
      const Int8Operand w_op{wq.data(), ws.data(), sums.data()};
      GemmShape s;
      s.M = M, s.N = N, s.K = K, s.trans_b = trans_b;
      std::vector<float> c_cpu(static_cast<size_t>(M * N)), c_ref(c_cpu.size()), c_f32(c_cpu.size());
      const float* b = with_bias ? bias.data() : nullptr;
      gemm_int8_dynamic(OpContext{Backend::Cpu, Precision::F32}, s, a.data(), w_op, b, c_cpu.data());
      gemm_int8_dynamic(OpContext{Backend::Ref, Precision::F32}, s, a.data(), w_op, b, c_ref.data());
      gemm(OpContext{Backend::Ref, Precision::F32}, s, a.data(), w.data(), b, c_f32.data(), false);
      EXPECT_LE(relative_diff(c_cpu.data(), c_ref.data(), M * N), 1e-6) << "oneDNN's int32 sums are exact";
      const double vs_fp32 = relative_diff(c_cpu.data(), c_f32.data(), M * N);
      EXPECT_LE(vs_fp32, 0.03) << "int8 product far from the fp32 one";
      EXPECT_GT(vs_fp32, 1e-5) << "no quantization happened";
    }
}

TEST(Int8Gemm, GpuHasNoInt8Path) {
  GemmShape s;
  s.M = s.N = s.K = 2, s.trans_b = true;
  std::vector<float> a(4, 1.0f), c(4), scale(2, 1.0f);
  std::vector<int8_t> w(4, 1);
  std::vector<int32_t> sums(2, 2);
  try {
    gemm_int8_dynamic(OpContext{Backend::Cuda, Precision::F32}, s, a.data(), Int8Operand{w.data(), scale.data(), sums.data()},
                      nullptr, c.data());
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("CPU only"), std::string::npos) << e.what();
  }
}

namespace {

std::unique_ptr<SequenceClassifier> scaled_model(const std::string& family, Backend backend) {
  ModelConfig c = small_model_config(family);
  if (family == "electra") c.embedding_size = 32;  // through embeddings_project (quantized too)
  auto model = create_sequence_classifier(c, 11);
  for (Parameter* p : model->parameters())
    if (p->name.find("LayerNorm") == std::string::npos && p->name.find("ln_") == std::string::npos &&
        p->name.find("layer_norm") == std::string::npos)
      for (int64_t i = 0; i < p->value.numel(); ++i) p->value.f32()[i] *= 5.0f;
  model->set_op_context(OpContext{backend, Precision::F32});
  return model;
}

}  // namespace

class Int8Families : public ::testing::TestWithParam<std::string> {};

TEST_P(Int8Families, LogitsNearFp32SameOnBothBackendsAndReloadExactly) {
  const std::string family = GetParam();
  auto cpu = scaled_model(family, Backend::Cpu), ref = scaled_model(family, Backend::Ref);
  const Batch batch = small_padded_batch(4, 12, 5);
  const Tensor fp32 = cpu->forward(batch).logits.clone();

  const std::vector<std::string> modules = quantize_dynamic_int8(*cpu);
  quantize_dynamic_int8(*ref);
  int64_t body = 0;
  for (const NamedLinear& m : cpu->linear_modules()) {
    EXPECT_EQ(m.int8_weight().empty(), m.head) << m.name << ": the body is int8, the head is not";
    body += m.head ? 0 : 1;
  }
  EXPECT_EQ(static_cast<int64_t>(modules.size()), body);
  const Tensor int8 = cpu->forward(batch).logits.clone();
  const Tensor int8_ref = ref->forward(batch).logits.clone();
  const double near = relative_diff(int8.f32(), fp32.f32(), fp32.numel());
  EXPECT_LE(near, 0.1) << "int8 logits far from fp32";
  EXPECT_GT(near, 1e-6) << "the int8 layers did not run";
  EXPECT_LE(relative_diff(int8.f32(), int8_ref.f32(), int8.numel()), 1e-4);
  std::printf("%s: %zu int8 modules, logits vs fp32 %.2e\n", family.c_str(), modules.size(), near);

  // Saved: I8 weights and F32 scales in model.safetensors, quantization_config in config.json; reloaded: the same
  // int8 model, bit for bit.
  TempDir dir("int8_" + family);
  cpu->save_pretrained(dir.str());
  auto file = SafetensorsFile::open(dir.str() + "/model.safetensors");
  EXPECT_EQ(file->entry(modules.front() + ".weight").dtype, DType::I8);
  EXPECT_EQ(file->entry(int8_scale_name(modules.front())).dtype, DType::F32);
  nlohmann::json config;
  std::ifstream(dir.str() + "/config.json") >> config;
  EXPECT_EQ(config["quantization_config"]["quant_method"], kInt8QuantMethod);
  EXPECT_EQ(config["quantization_config"]["modules"].size(), modules.size());
  LoadOptions load;
  load.require_all_weights = true;
  LoadReport report;
  auto reloaded = load_sequence_classifier(dir.str(), load, &report);
  EXPECT_TRUE(report.unexpected_keys.empty());
  EXPECT_EQ(int8_module_names(*reloaded), modules);
  reloaded->set_op_context(OpContext{Backend::Cpu, Precision::F32});
  const Tensor again = reloaded->forward(batch).logits;
  for (int64_t i = 0; i < int8.numel(); ++i) ASSERT_EQ(again.f32()[i], int8.f32()[i]) << "logit " << i;

  // Inference only: a training step refuses, naming the layer.
  Rng rng(1);
  try {
    reloaded->forward_backward(batch, rng);
    FAIL() << "an int8 model trained";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("inference-only"), std::string::npos) << e.what();
  }
}

INSTANTIATE_TEST_SUITE_P(All, Int8Families,
                         ::testing::Values("bert", "roberta", "xlm-roberta", "electra", "distilbert", "gpt2"),
                         family_param_name);

TEST(Int8Layout, BadFilesAreRefusedNamingTheTensor) {
  auto model = scaled_model("bert", Backend::Cpu);
  const std::vector<std::string> modules = quantize_dynamic_int8(*model);
  TempDir dir("int8_bad");
  model->save_pretrained(dir.str());
  LoadOptions load;
  load.print_warnings = false;
  // Another quantization method: refused, not read as fp32 numbers.
  nlohmann::json config;
  std::ifstream(dir.str() + "/config.json") >> config;
  const nlohmann::json good = config;
  config["quantization_config"]["quant_method"] = "bitsandbytes";
  std::ofstream(dir.str() + "/config.json") << config.dump();
  try {
    load_sequence_classifier(dir.str(), load);
    FAIL() << "loaded another quant_method";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bitsandbytes"), std::string::npos) << e.what();
  }
  // A module the model does not have.
  config = good;
  config["quantization_config"]["modules"].push_back("bert.encoder.layer.9.output.dense");
  std::ofstream(dir.str() + "/config.json") << config.dump();
  try {
    load_sequence_classifier(dir.str(), load);
    FAIL() << "loaded an int8 module the model lacks";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("layer.9.output.dense"), std::string::npos) << e.what();
  }
  // A non-positive scale.
  std::ofstream(dir.str() + "/config.json") << good.dump();
  auto file = SafetensorsFile::open(dir.str() + "/model.safetensors");
  std::map<std::string, Tensor> tensors;
  for (const std::string& name : file->names()) tensors[name] = file->load(name, file->entry(name).dtype);
  file.reset();
  for (auto& [name, t] : tensors)
    if (name == int8_scale_name(modules[1])) t.f32()[3] = -1.0f;
  save_safetensors(dir.str() + "/model.safetensors", tensors);
  try {
    load_sequence_classifier(dir.str(), load);
    FAIL() << "loaded a negative scale";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(modules[1] + ".weight_scale[3]"), std::string::npos) << e.what();
  }
}

// The fused int8 paths (nn/feed_forward.cpp, nn/self_attention.cpp on the Cpu backend): x quantized once and
// act(W1·x + b1) going from W1's int32 products straight into W2's u8 input give, bit for bit, what the layers'
// own int8 forwards give one after another (each quantizing its own input), for every activation.
TEST(Int8Fused, FeedForwardEqualsItsThreeStepsBitForBit) {
  const OpContext cpu{Backend::Cpu, Precision::BF16};
  const int64_t H = 48, I = 112;
  for (const Activation act : {Activation::Gelu, Activation::GeluTanh, Activation::Relu, Activation::Silu}) {
    SCOPED_TRACE(activation_name(act));
    FeedForward ffn("in", "out", H, I, act);
    Rng rng(3);
    for (Parameter* p : std::vector<Parameter*>{&ffn.dense_in.weight, &ffn.dense_in.bias, &ffn.dense_out.weight,
                                                &ffn.dense_out.bias})
      for (int64_t i = 0; i < p->value.numel(); ++i) p->value.f32()[i] = 0.2f * rng.normal();
    ffn.dense_in.set_int8_weight(Int8Weight::quantize(std::as_const(ffn.dense_in.weight.value), true));
    ffn.dense_out.set_int8_weight(Int8Weight::quantize(std::as_const(ffn.dense_out.weight.value), true));
    for (const int64_t rows : {1, 5, 300}) {  // 300 rows: the parallel passes
      const std::vector<float> x = random_values(rows * H, 7 + static_cast<uint64_t>(rows));
      std::vector<float> fused(static_cast<size_t>(rows * H)), steps(fused.size()), pre(static_cast<size_t>(rows * I)),
          h(pre.size());
      ffn.forward(cpu, x.data(), fused.data(), rows);
      ffn.dense_in.forward(cpu, x.data(), pre.data(), rows);
      activation_forward(cpu, act, pre.data(), h.data(), rows * I);
      ffn.dense_out.forward(cpu, h.data(), steps.data(), rows);
      for (int64_t i = 0; i < rows * H; ++i) ASSERT_EQ(fused[i], steps[i]) << "rows " << rows << ", value " << i;
    }
  }
}

TEST(Int8Fused, AttentionQuantizesItsInputOnceWithTheSameResult) {
  // The cpu backend multiplies q, k and v as one int8 product (nn/fused_projection.h: x quantized once); ref quantizes
  // inside each product (its triple loop).
  // A row quantizes to the same values wherever it is quantized and the int32 sums are exact, so with fp32 attention
  // on both the two differ only by the attention's summation order.
  const int64_t H = 32, NH = 4, B = 2, T = 6;
  SelfAttention attn("attn", H, NH, 0.0f);
  Rng rng(4);
  for (Linear* l : {&attn.query, &attn.key, &attn.value}) {
    for (int64_t i = 0; i < l->weight.value.numel(); ++i) l->weight.value.f32()[i] = 0.3f * rng.normal();
    for (int64_t i = 0; i < l->bias.value.numel(); ++i) l->bias.value.f32()[i] = 0.1f * rng.normal();
    l->set_int8_weight(Int8Weight::quantize(std::as_const(l->weight.value), true));
  }
  const OpContext cpu{Backend::Cpu, Precision::F32}, ref{Backend::Ref, Precision::F32};
  EXPECT_TRUE(attn.query.takes_quantized_input(cpu));
  EXPECT_FALSE(attn.query.takes_quantized_input(ref));
  const std::vector<float> x = random_values(B * T * H, 9);
  std::vector<float> once(static_cast<size_t>(B * T * H)), each(once.size());
  attn.forward(cpu, x.data(), nullptr, once.data(), B, T, nullptr);
  attn.forward(ref, x.data(), nullptr, each.data(), B, T, nullptr);
  EXPECT_LE(relative_diff(once.data(), each.data(), B * T * H), 1e-5);
}
