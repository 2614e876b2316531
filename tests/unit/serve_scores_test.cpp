// Tests for serve/scores: the text-classification pipeline's score function and top_k rules (pipeline.md §3).
#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "serve/scores.h"

using namespace accent;

namespace {
const std::map<int64_t, std::string> kLabels = {{0, "NEG"}, {1, "NEU"}, {2, "POS"}};
}

TEST(Scores, DefaultFunctionFollowsHfRules) {
  EXPECT_EQ(resolve_function_to_apply(FunctionToApply::Default, "regression", 1), FunctionToApply::None);
  EXPECT_EQ(resolve_function_to_apply(FunctionToApply::Default, "multi_label_classification", 3), FunctionToApply::Sigmoid);
  EXPECT_EQ(resolve_function_to_apply(FunctionToApply::Default, std::nullopt, 1), FunctionToApply::Sigmoid);
  EXPECT_EQ(resolve_function_to_apply(FunctionToApply::Default, std::nullopt, 2), FunctionToApply::Softmax);
  EXPECT_EQ(resolve_function_to_apply(FunctionToApply::Default, "single_label_classification", 2), FunctionToApply::Softmax);
  EXPECT_EQ(resolve_function_to_apply(FunctionToApply::Sigmoid, "single_label_classification", 2), FunctionToApply::Sigmoid);
  EXPECT_THROW(parse_function_to_apply("tanh"), Error);
}

TEST(Scores, SoftmaxLegacyReturnsArgmax) {
  const float logits[3] = {1.0f, 3.0f, 2.0f};
  auto out = classify_logits(logits, 3, kLabels, FunctionToApply::Softmax, {});
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].label, "NEU");
  const double denom = std::exp(-2.0) + 1.0 + std::exp(-1.0);
  EXPECT_NEAR(out[0].score, 1.0 / denom, 1e-7);
}

TEST(Scores, TopKSortsDescendingStableOnTies) {
  const float logits[3] = {0.5f, 0.5f, 2.0f};
  auto all = classify_logits(logits, 3, kLabels, FunctionToApply::Sigmoid, {TopK::All, 0});
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].label, "POS");
  EXPECT_EQ(all[1].label, "NEG");  // tie with NEU: id order kept
  EXPECT_EQ(all[2].label, "NEU");
  EXPECT_NEAR(all[0].score, 1.0 / (1.0 + std::exp(-2.0)), 1e-7);
  auto two = classify_logits(logits, 3, kLabels, FunctionToApply::None, {TopK::K, 2});
  ASSERT_EQ(two.size(), 2u);
  EXPECT_DOUBLE_EQ(two[0].score, 2.0);
  auto json = label_scores_to_json(two);
  EXPECT_EQ(json.dump(), R"([{"label":"POS","score":2.0},{"label":"NEG","score":0.5}])");
}
