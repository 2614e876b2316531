// Tests for train/metrics against scikit-learn and scipy (tests/reference/train_oracle.py metrics, /usr/bin/python3).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

#include <nlohmann/json.hpp>

#include "core/fs.h"
#include "core/rng.h"
#include "train/metrics.h"

using namespace accent;
using json = nlohmann::json;

namespace {
json run_oracle(const std::string& task, const json& input) {
  auto dir = std::filesystem::temp_directory_path() / ("accent_train_metrics_" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_file_atomic((dir / "in.json").string(), input.dump());
  const std::string cmd = "/usr/bin/python3 " ACCENT_SOURCE_DIR "/tests/reference/train_oracle.py " + task + " " +
                          (dir / "in.json").string() + " " + (dir / "out.json").string();
  if (std::system(cmd.c_str()) != 0) throw std::runtime_error("oracle failed: " + cmd);
  json out = json::parse(read_file((dir / "out.json").string()));
  std::filesystem::remove_all(dir);
  return out;
}
}  // namespace

TEST(Metrics, MatchScikitLearn) {
  Rng rng(11);
  // Single-label, 5 classes; class 4 never occurs (absent from y_true and y_pred), class 3 only predicted.
  const int64_t C = 5;
  std::vector<int64_t> yt, yp;
  for (int i = 0; i < 200; ++i) {
    const int64_t t = static_cast<int64_t>(rng.below(3));
    int64_t p = rng.uniform() < 0.6 ? t : static_cast<int64_t>(rng.below(4));
    yt.push_back(t);
    yp.push_back(p);
  }
  // Multi-label, 4 labels; label 3 never true nor predicted (F1 0 by zero_division).
  const int64_t L = 4;
  std::vector<uint8_t> mt, mp;
  for (int i = 0; i < 120; ++i)
    for (int64_t c = 0; c < L; ++c) {
      const bool t = c < 3 && rng.uniform() < 0.4;
      const bool p = c < 3 && (rng.uniform() < 0.75 ? t : !t);
      mt.push_back(t);
      mp.push_back(p);
    }
  std::vector<float> rt, rp;
  for (int i = 0; i < 150; ++i) {
    rt.push_back(rng.normal() * 3.0f + 1.0f);
    rp.push_back(0.7f * rt.back() + rng.normal());
  }
  const json out = run_oracle("metrics", {{"single", {{"y_true", yt}, {"y_pred", yp}, {"num_labels", C}}},
                                          {"multi", {{"y_true", mt}, {"y_pred", mp}, {"num_labels", L}}},
                                          {"regression", {{"y_true", rt}, {"y_pred", rp}}}});
  const double tol = 1e-12;
  const SingleLabelMetrics s = single_label_metrics(yt, yp, C);
  const json& rs = out["single"];
  EXPECT_NEAR(s.accuracy, rs["accuracy"].get<double>(), tol);
  EXPECT_NEAR(s.macro_f1, rs["macro_f1"].get<double>(), tol);
  EXPECT_NEAR(s.macro_precision, rs["macro_precision"].get<double>(), tol);
  EXPECT_NEAR(s.macro_recall, rs["macro_recall"].get<double>(), tol);
  EXPECT_NEAR(s.weighted_f1, rs["weighted_f1"].get<double>(), tol);
  for (int64_t c = 0; c < C; ++c) {
    EXPECT_NEAR(s.per_class[c].precision, rs["precision"][c].get<double>(), tol) << "class " << c;
    EXPECT_NEAR(s.per_class[c].recall, rs["recall"][c].get<double>(), tol) << "class " << c;
    EXPECT_NEAR(s.per_class[c].f1, rs["f1"][c].get<double>(), tol) << "class " << c;
    EXPECT_EQ(s.per_class[c].support, rs["support"][c].get<int64_t>()) << "class " << c;
  }
  EXPECT_EQ(json(s.confusion), rs["confusion"]);

  const MultiLabelMetrics m = multi_label_metrics(mt, mp, L);
  const json& rm = out["multi"];
  EXPECT_NEAR(m.subset_accuracy, rm["subset_accuracy"].get<double>(), tol);
  EXPECT_NEAR(m.micro_f1, rm["micro_f1"].get<double>(), tol);
  EXPECT_NEAR(m.micro_precision, rm["micro_precision"].get<double>(), tol);
  EXPECT_NEAR(m.micro_recall, rm["micro_recall"].get<double>(), tol);
  EXPECT_NEAR(m.macro_f1, rm["macro_f1"].get<double>(), tol);
  for (int64_t c = 0; c < L; ++c) EXPECT_NEAR(m.per_label[c].f1, rm["per_label_f1"][c].get<double>(), tol);

  const RegressionMetrics r = regression_metrics(rt, rp);
  const json& rr = out["regression"];
  // sklearn computes MSE/MAE in float32 here (float32 inputs); accent accumulates in double.
  EXPECT_NEAR(r.mse, rr["mse"].get<double>(), 1e-5 * rr["mse"].get<double>());
  EXPECT_NEAR(r.mae, rr["mae"].get<double>(), 1e-5 * rr["mae"].get<double>());
  EXPECT_NEAR(r.pearson, rr["pearson"].get<double>(), 1e-9);
}

TEST(Metrics, AccumulatorFromLogits) {
  // Two batches of single-label logits; the -100 label is left out; ties go to the first maximum (argmax).
  MetricAccumulator acc(ProblemType::SingleLabel, 3);
  Batch b1;
  b1.B = 3;
  b1.class_labels = {0, 2, -100};
  acc.add(Tensor::from_vector({3, 3}, {2, 1, 0, /**/ 0, 0, 5, /**/ 9, 0, 0}), b1);
  Batch b2;
  b2.B = 2;
  b2.class_labels = {1, 1};
  acc.add(Tensor::from_vector({2, 3}, {1, 1, 0, /**/ 0, 3, 1}), b2);
  EXPECT_EQ(acc.num_examples(), 4);
  EXPECT_EQ(acc.class_pred(), (std::vector<int64_t>{0, 2, 0, 1}));
  const json s = acc.summary();
  EXPECT_DOUBLE_EQ(s["accuracy"].get<double>(), 0.75);
  const json r = acc.report();
  EXPECT_EQ(r["confusion_matrix"], json({{1, 0, 0}, {1, 1, 0}, {0, 0, 1}}));

  MetricAccumulator reg(ProblemType::Regression, 1);
  Batch b3;
  b3.B = 2;
  b3.float_labels = {1.0f, 1.0f};
  reg.add(Tensor::from_vector({2, 1}, {1.5f, 0.5f}), b3);
  const json rs = reg.summary();
  EXPECT_DOUBLE_EQ(rs["mse"].get<double>(), 0.25);
  EXPECT_TRUE(rs["pearson"].is_null());  // constant targets: undefined, as scipy's NaN

  MetricAccumulator multi(ProblemType::MultiLabel, 2);
  Batch b4;
  b4.B = 2;
  b4.float_labels = {1, 0, 1, 1};
  multi.add(Tensor::from_vector({2, 2}, {0.3f, -2.0f, 1.0f, -0.1f}), b4);
  EXPECT_DOUBLE_EQ(multi.summary()["accuracy"].get<double>(), 0.5);
}

TEST(Metrics, RejectsBadInput) {
  EXPECT_THROW(single_label_metrics({0, 1}, {0}, 2), Error);
  EXPECT_THROW(single_label_metrics({0, 3}, {0, 1}, 2), Error);
  EXPECT_THROW(multi_label_metrics({1, 0, 1}, {1, 0, 1}, 2), Error);
}
