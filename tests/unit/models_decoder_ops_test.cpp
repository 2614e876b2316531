// The decoder families' own ops — RMSNorm (ops/rms_norm.h, nn/rms_norm.h) and rotary embeddings (ops/rotary.h):
// finite-difference checks of the ref backward, the CPU path against ref, and both against a PyTorch twin written
// from transformers' Qwen2RMSNorm / apply_rotary_pos_emb / rope parameter code (tests/reference/decoder_ops_twin.py),
// default and llama3 inv_freq included. (A models_ test: it reads the twin's safetensors through io/.)
#include <gtest/gtest.h>

#include <cstdlib>

#include "io/safetensors.h"
#include "nn/rms_norm.h"
#include "ops/rms_norm.h"
#include "ops/rotary.h"
#include "ops_test_util.h"
#include "test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {
const OpContext kRef{Backend::Ref, Precision::F32};
const OpContext kCpu{Backend::Cpu, Precision::F32};

double rel(const std::vector<float>& analytic, const std::vector<double>& numeric) {
  return relative_error(analytic.data(), numeric.data(), static_cast<int64_t>(analytic.size()));
}

std::vector<float> values(const Tensor& t) { return std::vector<float>(t.data_as<float>(), t.data_as<float>() + t.numel()); }
}  // namespace

TEST(DecoderOps, RmsNormGradcheckAndCpuMatchesRef) {
  const int64_t rows = 5, C = 11;
  auto x = random_vector(rows * C, 1), g = random_vector(C, 2), w = random_vector(rows * C, 3);
  std::vector<float> y(rows * C), rstd(rows);
  auto loss = [&] {
    rms_norm_forward(kRef, x.data(), g.data(), y.data(), rstd.data(), rows, C, 1e-6f);
    return weighted_sum(y, w);
  };
  loss();
  std::vector<float> dx(rows * C), dg(C, 0.0f);
  rms_norm_backward(kRef, w.data(), x.data(), g.data(), rstd.data(), dx.data(), dg.data(), rows, C);
  EXPECT_LT(rel(dx, numeric_gradient(x, loss, 1e-3f)), 3e-3);
  EXPECT_LT(rel(dg, numeric_gradient(g, loss, 1e-3f)), 3e-3);

  loss();
  std::vector<float> y_cpu(rows * C), rstd_cpu(rows), dx_cpu(rows * C), dg_cpu(C, 0.0f);
  rms_norm_forward(kCpu, x.data(), g.data(), y_cpu.data(), rstd_cpu.data(), rows, C, 1e-6f);
  rms_norm_backward(kCpu, w.data(), x.data(), g.data(), rstd_cpu.data(), dx_cpu.data(), dg_cpu.data(), rows, C);
  std::fill(dg.begin(), dg.end(), 0.0f);
  rms_norm_backward(kRef, w.data(), x.data(), g.data(), rstd.data(), dx.data(), dg.data(), rows, C);
  EXPECT_EQ(y_cpu, y);
  EXPECT_EQ(dx_cpu, dx);
  EXPECT_EQ(dg_cpu, dg);
  // The module: weight initialised to ones, "<name>.weight", the op underneath.
  RmsNorm norm("model.norm", C, 1e-6f);
  EXPECT_EQ(norm.weight.name, "model.norm.weight");
  EXPECT_EQ(values(norm.weight.value), std::vector<float>(C, 1.0f));
  std::copy(g.begin(), g.end(), norm.weight.value.data_as<float>());
  std::vector<float> y_module(rows * C);
  norm.forward(kCpu, x.data(), y_module.data(), rows);
  EXPECT_EQ(y_module, y);
  // A frozen weight: no gradient sum, dx unchanged.
  std::vector<float> dx_frozen(rows * C);
  rms_norm_backward(kCpu, w.data(), x.data(), g.data(), rstd.data(), dx_frozen.data(), nullptr, rows, C);
  EXPECT_EQ(dx_frozen, dx);
}

TEST(DecoderOps, RotaryGradcheckInverseAndCpuMatchesRef) {
  const int64_t rows = 4, heads = 2, D = 8;
  auto x = random_vector(rows * heads * D, 4), w = random_vector(rows * heads * D, 5);
  const std::vector<int32_t> positions = {0, 3, 17, 1000};
  const std::vector<float> inv = rotary_inv_freq(D, 10000.0);
  std::vector<float> y(x.size());
  auto loss = [&] {
    rotary_forward(kRef, x.data(), positions.data(), inv.data(), y.data(), rows, heads, D);
    return weighted_sum(y, w);
  };
  loss();
  std::vector<float> dx(x.size());
  rotary_backward(kRef, w.data(), positions.data(), inv.data(), dx.data(), rows, heads, D);
  EXPECT_LT(rel(dx, numeric_gradient(x, loss, 1e-3f)), 3e-3);
  // The backward is the inverse rotation: it takes y back to x.
  loss();
  std::vector<float> back(x.size());
  rotary_backward(kRef, y.data(), positions.data(), inv.data(), back.data(), rows, heads, D);
  EXPECT_LT(relative_error(back, x), 1e-6);
  // Position 0 is the identity; CPU equals ref; in place works.
  for (int64_t i = 0; i < heads * D; ++i) EXPECT_EQ(y[i], x[i]);
  std::vector<float> y_cpu = x;
  rotary_forward(kCpu, y_cpu.data(), positions.data(), inv.data(), y_cpu.data(), rows, heads, D);
  EXPECT_EQ(y_cpu, y);
}

TEST(DecoderOps, MatchPyTorchTwinOfTransformers) {
  TempDir dir("decoder_ops_twin");
  const std::string file = dir.str("twin.safetensors");
  const std::string cmd = "/usr/bin/python3 '" + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/decoder_ops_twin.py' '" +
                          file + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
  auto f = SafetensorsFile::open(file);

  const Tensor x = f->load("rms.x");
  const int64_t rows = x.dim(0), C = x.dim(1);
  const std::vector<float> w = values(f->load("rms.w")), dy = values(f->load("rms.dy"));
  for (const OpContext& ctx : {kRef, kCpu}) {
    std::vector<float> y(rows * C), rstd(rows), dx(rows * C), dw(C, 0.0f);
    rms_norm_forward(ctx, x.data_as<float>(), w.data(), y.data(), rstd.data(), rows, C, 1e-6f);
    rms_norm_backward(ctx, dy.data(), x.data_as<float>(), w.data(), rstd.data(), dx.data(), dw.data(), rows, C);
    EXPECT_LT(relative_error(y, values(f->load("rms.y"))), 1e-6);
    EXPECT_LT(relative_error(dx, values(f->load("rms.dx"))), 1e-5);
    EXPECT_LT(relative_error(dw, values(f->load("rms.dw"))), 1e-5);
  }

  const Tensor q = f->load("rope.q");  // (B, T, NH, D)
  const int64_t B = q.dim(0), T = q.dim(1), NH = q.dim(2), D = q.dim(3);
  const Tensor pos = f->load("positions", DType::I64);
  std::vector<int32_t> positions;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t t = 0; t < T; ++t) positions.push_back(static_cast<int32_t>(pos.data_as<int64_t>()[t]));
  const std::vector<float> dq = values(f->load("rope.dy"));
  RotaryScaling llama3;
  llama3.factor = 32.0, llama3.low_freq_factor = 1.0, llama3.high_freq_factor = 4.0;
  llama3.original_max_position_embeddings = 8192.0;
  for (const char* kind : {"default", "llama3"}) {
    const std::string k = kind;
    const std::vector<float> inv =
        k == "default" ? rotary_inv_freq(D, 500000.0) : rotary_inv_freq(D, 500000.0, llama3);
    EXPECT_LT(relative_error(inv, values(f->load("rope." + k + ".inv_freq"))), 1e-6) << k;
    for (const OpContext& ctx : {kRef, kCpu}) {
      std::vector<float> y(q.numel()), dx(q.numel());
      rotary_forward(ctx, q.data_as<float>(), positions.data(), inv.data(), y.data(), B * T, NH, D);
      rotary_backward(ctx, dq.data(), positions.data(), inv.data(), dx.data(), B * T, NH, D);
      EXPECT_LT(relative_error(y, values(f->load("rope." + k + ".y"))), 1e-5) << k;
      EXPECT_LT(relative_error(dx, values(f->load("rope." + k + ".dx"))), 1e-5) << k;
    }
  }
}
