// train/metrics.h — evaluation metrics with scikit-learn's definitions (zero_division = 0).
//
// Single-label: accuracy_score; precision_recall_fscore_support per class (precision = tp/(tp+fp),
// recall = tp/(tp+fn), F1 = 2tp/(2tp+fp+fn), each 0 when its denominator is 0); macro averages are over the labels
// present in y_true ∪ y_pred (sklearn's default `labels`); confusion_matrix[true][pred].
// Multi-label (indicator matrices, prediction = logit > 0 ⇔ sigmoid > 0.5): subset accuracy (exact row match),
// micro P/R/F1 from the summed tp/fp/fn, macro F1 over all label columns (sklearn uses every column here).
// Regression (flattened over examples × outputs): mean_squared_error, mean_absolute_error, Pearson's r
// (scipy.stats.pearsonr; NaN when either side is constant).
#pragma once
#include <cstdint>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/tensor.h"
#include "data/batch.h"

namespace accent {

struct ClassScores {
  double precision = 0, recall = 0, f1 = 0;
  int64_t support = 0;  // number of true examples of the class
};

struct SingleLabelMetrics {
  double accuracy = 0;
  double macro_precision = 0, macro_recall = 0, macro_f1 = 0;
  double weighted_f1 = 0;                      // support-weighted F1 (sklearn average="weighted")
  std::vector<ClassScores> per_class;          // (C)
  std::vector<std::vector<int64_t>> confusion;  // (C, C): [true label][predicted label]
};

struct MultiLabelMetrics {
  double subset_accuracy = 0;
  double micro_precision = 0, micro_recall = 0, micro_f1 = 0;
  double macro_f1 = 0;
  std::vector<ClassScores> per_label;  // (C)
};

struct RegressionMetrics {
  double mse = 0, mae = 0, pearson = 0;
};

// y_true / y_pred in [0, C).
SingleLabelMetrics single_label_metrics(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred,
                                        int64_t num_labels);
// Indicator matrices (N, C) of 0/1.
MultiLabelMetrics multi_label_metrics(const std::vector<uint8_t>& y_true, const std::vector<uint8_t>& y_pred,
                                      int64_t num_labels);
RegressionMetrics regression_metrics(const std::vector<float>& y_true, const std::vector<float>& y_pred);

// Collects predictions and labels batch by batch during evaluation.
class MetricAccumulator {
 public:
  MetricAccumulator(ProblemType problem_type, int64_t num_labels);
  // logits (B, C); labels from the batch (examples with class label -100 are left out of the metrics).
  void add(const Tensor& logits, const Batch& batch);
  int64_t num_examples() const { return num_examples_; }

  // Flat metric map as HF's compute_metrics returns it (without prefix): single-label {accuracy, f1 (macro),
  // precision (macro), recall (macro)}; multi-label {accuracy (subset), f1_micro, f1_macro}; regression
  // {mse, mae, pearson}. Empty when no labelled example was seen.
  nlohmann::json summary() const;
  // Everything, including per-class scores and the confusion matrix.
  nlohmann::json report() const;

  ProblemType problem_type() const { return problem_type_; }
  const std::vector<int64_t>& class_true() const { return class_true_; }
  const std::vector<int64_t>& class_pred() const { return class_pred_; }

 private:
  ProblemType problem_type_;
  int64_t num_labels_;
  int64_t num_examples_ = 0;
  std::vector<int64_t> class_true_, class_pred_;  // single-label
  std::vector<uint8_t> multi_true_, multi_pred_;  // multi-label (N, C)
  std::vector<float> reg_true_, reg_pred_;        // regression (N, C)
};

}  // namespace accent
