// Whole models on the GPU (Backend::Cuda, parameters and activations in device memory) against the same models on
// the CPU, for every family: logits, loss, every parameter gradient, ten AdamW steps with clipping, bf16 mixed
// precision, LoRA, a training step that allocates no device memory once its shape has been seen, and checkpoints
// that move between devices (trained on the GPU, loaded on the CPU). Both sides draw the same dropout masks
// (counter-based generator), so training steps compare too. Without a usable GPU the GPU tests report themselves
// skipped; the no-GPU test checks that moving a model to the GPU fails with a clear message instead.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "core/error.h"
#include "models/peft_adapter.h"
#include "models/registry.h"
#include "nn/scratch.h"
#include "ops/cuda/device.h"
#include "train/adamw.h"
#include "train/grad_clip.h"
#include "models_test_util.h"

using namespace accent;
using namespace accent::testing;

namespace {

const OpContext kCpu{Backend::Cpu, Precision::F32};
const OpContext kCuda{Backend::Cuda, Precision::F32};

// fp32 GPU vs fp32 CPU: the same math in other summation orders (cuBLASLt vs oneDNN, block reductions), relative
// to each tensor's largest magnitude. TF32 is off.
constexpr double kLogitsTol = 1e-4;
constexpr double kGradTol = 1e-3;
// bf16 on both: the same operand roundings; only summation order differs (a flipped activation rounding at most).
constexpr double kBf16LogitsTol = 5e-3;
// Ten AdamW steps: the loss trajectory, and the parameter change averaged over each tensor (a near-zero gradient
// whose sign differs between the two sums moves one element by ±lr; averages are robust to a few of those).
constexpr double kLossTrajectoryTol = 1e-3;
constexpr double kMeanUpdateTol = 2e-2;

bool gpu_usable() { return cuda::probe_device().usable; }
#define REQUIRE_GPU() \
  if (!gpu_usable()) GTEST_SKIP() << "no GPU: " << cuda::probe_device().description

ModelConfig family_config(const std::string& family) {
  ModelConfig c = small_model_config(family);
  if (family == "electra") c.embedding_size = 32;  // with the embeddings_project Linear
  return c;
}

// Weights ×3 (LayerNorm excepted): the 0.02 init leaves the model nearly linear; this makes every nonlinearity count.
std::unique_ptr<SequenceClassifier> make_model(const std::string& family, const OpContext& ctx) {
  auto m = create_sequence_classifier(family_config(family), 7);
  for (Parameter* p : m->parameters())
    if (p->name.find("LayerNorm") == std::string::npos && p->name.find("ln_") == std::string::npos &&
        p->name.find("layer_norm") == std::string::npos)
      for (int64_t i = 0; i < p->value.numel(); ++i) p->value.f32()[i] *= 3.0f;
  m->set_op_context(ctx);
  return m;
}

// The key projection's bias has an analytically zero gradient (it adds q·b_k to every score of a query: softmax
// cancels it), so both devices return rounding noise there. Gradients are compared relative to their tensor's
// largest magnitude, but never to less than kGradFloor × the largest gradient of the whole model.
constexpr double kGradFloor = 1e-4;
bool zero_gradient_in_theory(const std::string& name) {
  return name.find("key.bias") != std::string::npos || name.find("k_lin.bias") != std::string::npos;
}

void expect_grads_close(SequenceClassifier& gpu, SequenceClassifier& cpu, double tol, const std::string& what) {
  const ParameterList pg = gpu.parameters(), pc = cpu.parameters();
  ASSERT_EQ(pg.size(), pc.size());
  double largest = 0;
  for (const Parameter* p : pc)
    if (p->trainable) largest = std::max(largest, max_abs(p->grad));
  double worst = 0;
  std::string worst_name;
  for (size_t i = 0; i < pg.size(); ++i) {
    if (!pc[i]->trainable) continue;
    ASSERT_FALSE(pg[i]->grad.on_host()) << pg[i]->name << ": gradient not in GPU memory";
    const double e = relative_diff(pg[i]->grad.to_host(), pc[i]->grad, kGradFloor * largest);
    if (e > worst) worst = e, worst_name = pc[i]->name;
    EXPECT_LE(e, tol) << what << ": gradient of " << pc[i]->name;
  }
  std::printf("%s: worst gradient difference %.2e (%s)\n", what.c_str(), worst, worst_name.c_str());
}

class ModelsCudaFamily : public ::testing::TestWithParam<std::string> {};

}  // namespace

TEST(ModelsCuda, WithoutGpuMovingAModelSaysWhy) {
  if (gpu_usable()) GTEST_SKIP() << "a GPU is present: " << cuda::probe_device().description;
  auto m = create_sequence_classifier(small_model_config(), 7);
  try {
    m->set_op_context(kCuda);
    FAIL() << "moving a model to the GPU without one should throw";
  } catch (const Error& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find("--device cuda"), std::string::npos) << msg;
    EXPECT_NE(msg.find(cuda::probe_device().description), std::string::npos) << msg;
  }
  // The model is still usable on the CPU.
  EXPECT_EQ(m->forward(small_padded_batch(2, 8, 1)).logits.numel(), 2 * 3);
}

TEST_P(ModelsCudaFamily, LogitsLossAndEveryGradientMatchTheCpu) {
  REQUIRE_GPU();
  const std::string family = GetParam();
  auto cpu = make_model(family, kCpu), gpu = make_model(family, kCuda);
  for (Parameter* p : gpu->parameters()) ASSERT_FALSE(p->value.on_host()) << p->name << " was not moved to the GPU";
  const Batch batch = small_padded_batch(4, 24, 3);

  const ForwardResult a = cpu->forward(batch), b = gpu->forward(batch);
  ASSERT_TRUE(b.logits.on_host());
  const double logits = relative_diff(b.logits, a.logits, 1e-12);
  std::printf("%s: inference logits %.2e, loss %.6f vs %.6f\n", family.c_str(), logits, b.loss, a.loss);
  EXPECT_LE(logits, kLogitsTol);
  EXPECT_NEAR(b.loss, a.loss, kLogitsTol * std::max(1.0f, std::fabs(a.loss)));

  Rng ra(5), rb(5);  // dropout on: both sides draw the same masks
  const ForwardResult ta = cpu->forward_backward(batch, ra), tb = gpu->forward_backward(batch, rb);
  EXPECT_LE(relative_diff(tb.logits, ta.logits, 1e-12), kLogitsTol) << "training logits (with dropout)";
  EXPECT_NEAR(tb.loss, ta.loss, kLogitsTol * std::max(1.0f, std::fabs(ta.loss)));
  expect_grads_close(*gpu, *cpu, kGradTol, family);
}

TEST_P(ModelsCudaFamily, TenAdamWStepsFollowTheCpuAndAllocateOnce) {
  REQUIRE_GPU();
  const std::string family = GetParam();
  auto cpu = make_model(family, kCpu), gpu = make_model(family, kCuda);
  const ParameterList pc = cpu->parameters(), pg = gpu->parameters();
  std::vector<Tensor> start;
  for (Parameter* p : pc) start.push_back(p->value.clone());
  AdamWOptions opt;
  opt.weight_decay = 0.01;
  AdamW oc(pc, opt, kCpu), og(pg, opt, kCuda);
  Rng ra(9), rb(9);
  uint64_t allocations_after_first = 0;
  int64_t scratch_after_first = 0;
  for (int step = 0; step < 10; ++step) {
    const Batch batch = small_padded_batch(4, 24, 100 + step);  // same shape every step
    const float la = cpu->forward_backward(batch, ra).loss, lb = gpu->forward_backward(batch, rb).loss;
    const double na = clip_grad_norm(pc, 1.0, kCpu), nb = clip_grad_norm(pg, 1.0, kCuda);
    EXPECT_NEAR(lb, la, kLossTrajectoryTol * std::max(1.0f, std::fabs(la))) << "loss at step " << step;
    EXPECT_NEAR(nb, na, kLossTrajectoryTol * std::max(1.0, na)) << "grad norm at step " << step;
    oc.step(1e-3), og.step(1e-3);
    oc.zero_grad(), og.zero_grad();
    if (step == 0) {
      cuda::synchronize();
      allocations_after_first = cuda::allocation_count();
      scratch_after_first = ScratchBuffer::total_allocations();
    }
  }
  cuda::synchronize();
  EXPECT_EQ(cuda::allocation_count(), allocations_after_first) << "a training step of a seen shape called cudaMalloc";
  EXPECT_EQ(ScratchBuffer::total_allocations(), scratch_after_first);
  double worst = 0;
  for (size_t i = 0; i < pc.size(); ++i) {
    if (zero_gradient_in_theory(pc[i]->name)) continue;  // AdamW turns its rounding noise into ±lr steps
    const Tensor g = pg[i]->value.to_host();
    const float *c = pc[i]->value.f32(), *s = start[i].f32(), *d = g.f32();
    double diff = 0, change = 1e-30;
    for (int64_t k = 0; k < start[i].numel(); ++k) {
      diff += std::fabs(static_cast<double>(d[k]) - c[k]);
      change += std::fabs(static_cast<double>(c[k]) - s[k]);
    }
    worst = std::max(worst, diff / change);
    EXPECT_LE(diff / change, kMeanUpdateTol) << pc[i]->name << ": parameter after 10 steps";
  }
  std::printf("%s: 10 AdamW steps, worst mean parameter-update difference %.2e\n", family.c_str(), worst);
}

TEST_P(ModelsCudaFamily, Bf16MixedPrecisionMatchesTheCpuBf16Path) {
  REQUIRE_GPU();
  const std::string family = GetParam();
  auto cpu = make_model(family, OpContext{Backend::Cpu, Precision::BF16});
  auto gpu = make_model(family, OpContext{Backend::Cuda, Precision::BF16});
  auto f32 = make_model(family, kCpu);
  const Batch batch = small_padded_batch(4, 24, 3);
  const Tensor a = cpu->forward(batch).logits, b = gpu->forward(batch).logits, c = f32->forward(batch).logits;
  const double vs_cpu = relative_diff(b, a, 1e-12), vs_f32 = relative_diff(b, c, 1e-12);
  std::printf("%s bf16: GPU vs CPU bf16 %.2e, vs fp32 %.2e\n", family.c_str(), vs_cpu, vs_f32);
  EXPECT_LE(vs_cpu, kBf16LogitsTol);
  EXPECT_GT(vs_f32, 1e-7) << "bf16 logits identical to fp32: the bf16 path is not used";
  Rng ra(5), rb(5);
  cpu->forward_backward(batch, ra), gpu->forward_backward(batch, rb);
  expect_grads_close(*gpu, *cpu, 5e-2, family + " bf16");
}

TEST_P(ModelsCudaFamily, LoraAdaptersTrainOnTheGpu) {
  REQUIRE_GPU();
  const std::string family = GetParam();
  LoraConfig lc;
  lc.hyper.r = 4, lc.hyper.alpha = 8, lc.hyper.dropout = 0.1;
  lc.target_modules = default_lora_target_modules(family);
  LoraModel cpu(make_model(family, kCpu), lc, 3), gpu(make_model(family, kCpu), lc, 3);
  cpu.set_op_context(kCpu);
  gpu.set_op_context(kCuda);
  // B starts at zero (PEFT): one AdamW step makes the adapters matter before the compared step.
  AdamW oc(cpu.parameters(), AdamWOptions{}, kCpu), og(gpu.parameters(), AdamWOptions{}, kCuda);
  const Batch batch = small_padded_batch(4, 24, 3);
  Rng ra(5), rb(5);
  cpu.forward_backward(batch, ra), gpu.forward_backward(batch, rb);
  oc.step(1e-2), og.step(1e-2);
  oc.zero_grad(), og.zero_grad();
  const ForwardResult ta = cpu.forward_backward(batch, ra), tb = gpu.forward_backward(batch, rb);
  EXPECT_LE(relative_diff(tb.logits, ta.logits, 1e-12), kLogitsTol);
  expect_grads_close(gpu, cpu, kGradTol, family + " LoRA");
}

TEST_P(ModelsCudaFamily, TrainedOnTheGpuPredictsTheSameOnTheCpu) {
  REQUIRE_GPU();
  const std::string family = GetParam();
  auto gpu = make_model(family, kCuda);
  AdamW opt(gpu->parameters(), AdamWOptions{}, kCuda);
  Rng rng(4);
  for (int step = 0; step < 3; ++step) {
    gpu->forward_backward(small_padded_batch(4, 24, 50 + step), rng);
    opt.step(1e-3);
    opt.zero_grad();
  }
  TempDir dir("models_cuda_" + family);
  gpu->save_pretrained(dir.str());
  LoadOptions quiet;
  quiet.print_warnings = false;
  auto cpu = load_sequence_classifier(dir.str(), quiet);
  cpu->set_op_context(kCpu);
  const Batch batch = small_padded_batch(4, 24, 3);
  const Tensor a = cpu->forward(batch).logits, b = gpu->forward(batch).logits;
  EXPECT_LE(relative_diff(b, a, 1e-12), kLogitsTol) << "the checkpoint written from GPU memory";
  // And back: the CPU-loaded model moved to the GPU.
  cpu->set_op_context(kCuda);
  EXPECT_LE(relative_diff(cpu->forward(batch).logits, a, 1e-12), kLogitsTol);
}

INSTANTIATE_TEST_SUITE_P(Families, ModelsCudaFamily,
                         ::testing::Values("bert", "roberta", "electra", "distilbert", "gpt2"),
                         [](const ::testing::TestParamInfo<std::string>& info) { return info.param; });
