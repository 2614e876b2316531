// Inference holds one layer's activations (nn/scratch.h InferenceScratch): a forward with no backward after it
// shares the per-layer buffers between layers. For every family: the same logits as a forward that keeps every
// layer's activations, a scratch-allocation count that does not grow with the number of layers, and training
// (forward_backward) unaffected by an inference forward between its steps.
#include <gtest/gtest.h>

#include <string>
#include <thread>

#include "models/registry.h"
#include "models/transformer_classifier.h"
#include "models_test_util.h"
#include "nn/scratch.h"

using namespace accent;
using namespace accent::testing;

namespace {

std::unique_ptr<SequenceClassifier> model_with_layers(const std::string& family, int64_t layers) {
  ModelConfig c = small_model_config(family);
  c.num_hidden_layers = layers;
  auto model = create_sequence_classifier(c, 7);
  model->set_op_context(OpContext{Backend::Cpu, Precision::F32});
  return model;
}

// Scratch allocations of one inference forward of a fresh `layers`-layer model, on a fresh thread (its shared
// buffers start empty).
int64_t inference_allocations(const std::string& family, int64_t layers, bool keep) {
  int64_t count = 0;
  std::thread([&] {
    auto model = model_with_layers(family, layers);
    dynamic_cast<TransformerClassifier&>(*model).set_keep_layer_activations(keep);
    const Batch batch = small_padded_batch(3, 10, 1);
    const int64_t before = ScratchBuffer::total_allocations();
    model->forward(batch);
    count = ScratchBuffer::total_allocations() - before;
  }).join();
  return count;
}

}  // namespace

class InferenceScratchFamilies : public ::testing::TestWithParam<std::string> {};

TEST_P(InferenceScratchFamilies, SameLogitsAndBuffersIndependentOfDepth) {
  const std::string family = GetParam();
  auto shared = model_with_layers(family, 3), kept = model_with_layers(family, 3);
  dynamic_cast<TransformerClassifier&>(*kept).set_keep_layer_activations(true);
  const Batch batch = small_padded_batch(4, 12, 3);
  const Tensor a = shared->forward(batch).logits.clone(), b = kept->forward(batch).logits.clone();
  for (int64_t i = 0; i < a.numel(); ++i) ASSERT_EQ(a.f32()[i], b.f32()[i]) << "logit " << i;

  const int64_t shared_2 = inference_allocations(family, 2, false), shared_6 = inference_allocations(family, 6, false);
  const int64_t kept_2 = inference_allocations(family, 2, true), kept_6 = inference_allocations(family, 6, true);
  EXPECT_EQ(shared_6, shared_2) << "inference buffers grew with the number of layers";
  EXPECT_GT(kept_6, kept_2) << "the check is void: keeping activations did not allocate per layer";
  std::printf("%s: scratch allocations of one inference forward, 2 / 6 layers: shared %lld / %lld, kept %lld / %lld\n",
              family.c_str(), static_cast<long long>(shared_2), static_cast<long long>(shared_6),
              static_cast<long long>(kept_2), static_cast<long long>(kept_6));

  // An inference forward between two training steps changes nothing in the second step.
  auto t1 = model_with_layers(family, 3), t2 = model_with_layers(family, 3);
  Rng r1(5), r2(5);
  t1->forward_backward(batch, r1);
  t2->forward_backward(batch, r2);
  t2->forward(small_padded_batch(2, 7, 9));
  const ForwardResult s1 = t1->forward_backward(batch, r1), s2 = t2->forward_backward(batch, r2);
  EXPECT_EQ(s1.loss, s2.loss);
  const ParameterList p1 = t1->parameters(), p2 = t2->parameters();
  for (size_t i = 0; i < p1.size(); ++i)
    for (int64_t k = 0; k < p1[i]->grad.numel(); ++k)
      ASSERT_EQ(p1[i]->grad.f32()[k], p2[i]->grad.f32()[k]) << p1[i]->name << "[" << k << "]";
}

INSTANTIATE_TEST_SUITE_P(All, InferenceScratchFamilies,
                         ::testing::Values("bert", "roberta", "electra", "distilbert", "gpt2", "qwen2", "llama",
                                           "modernbert", "deberta-v2"),
                         family_param_name);
