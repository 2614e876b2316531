#include "train/metrics.h"

#include <cmath>
#include <limits>

#include "core/error.h"

namespace accent {

namespace {
double safe_div(double num, double den) { return den == 0.0 ? 0.0 : num / den; }

ClassScores scores_from_counts(int64_t tp, int64_t fp, int64_t fn) {
  ClassScores s;
  s.precision = safe_div(tp, tp + fp);
  s.recall = safe_div(tp, tp + fn);
  s.f1 = safe_div(2.0 * tp, 2.0 * tp + fp + fn);
  s.support = tp + fn;
  return s;
}

// JSON cannot hold NaN: write null instead.
nlohmann::json number_or_null(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }
}  // namespace

SingleLabelMetrics single_label_metrics(const std::vector<int64_t>& y_true, const std::vector<int64_t>& y_pred,
                                        int64_t num_labels) {
  ACCENT_CHECK(y_true.size() == y_pred.size(), "metrics: ", y_true.size(), " labels but ", y_pred.size(),
               " predictions");
  ACCENT_CHECK(num_labels > 0, "metrics: num_labels must be positive");
  const size_t C = static_cast<size_t>(num_labels);
  SingleLabelMetrics m;
  m.confusion.assign(C, std::vector<int64_t>(C, 0));
  int64_t correct = 0;
  for (size_t i = 0; i < y_true.size(); ++i) {
    ACCENT_CHECK(y_true[i] >= 0 && y_true[i] < num_labels, "metrics: label ", y_true[i], " of example ", i,
                 " is outside [0, ", num_labels, ")");
    ACCENT_CHECK(y_pred[i] >= 0 && y_pred[i] < num_labels, "metrics: prediction ", y_pred[i], " of example ", i,
                 " is outside [0, ", num_labels, ")");
    ++m.confusion[y_true[i]][y_pred[i]];
    correct += y_true[i] == y_pred[i];
  }
  m.accuracy = safe_div(static_cast<double>(correct), static_cast<double>(y_true.size()));
  int64_t present = 0, total_support = 0;
  m.per_class.resize(C);
  for (size_t c = 0; c < C; ++c) {
    int64_t tp = m.confusion[c][c], fp = 0, fn = 0;
    for (size_t o = 0; o < C; ++o) {
      if (o == c) continue;
      fp += m.confusion[o][c];
      fn += m.confusion[c][o];
    }
    m.per_class[c] = scores_from_counts(tp, fp, fn);
    const bool in_true_or_pred = tp + fp + fn > 0;  // label appears in y_true ∪ y_pred
    if (in_true_or_pred) {
      ++present;
      m.macro_precision += m.per_class[c].precision;
      m.macro_recall += m.per_class[c].recall;
      m.macro_f1 += m.per_class[c].f1;
    }
    m.weighted_f1 += m.per_class[c].f1 * static_cast<double>(m.per_class[c].support);
    total_support += m.per_class[c].support;
  }
  m.macro_precision = safe_div(m.macro_precision, present);
  m.macro_recall = safe_div(m.macro_recall, present);
  m.macro_f1 = safe_div(m.macro_f1, present);
  m.weighted_f1 = safe_div(m.weighted_f1, static_cast<double>(total_support));
  return m;
}

MultiLabelMetrics multi_label_metrics(const std::vector<uint8_t>& y_true, const std::vector<uint8_t>& y_pred,
                                      int64_t num_labels) {
  ACCENT_CHECK(y_true.size() == y_pred.size(), "metrics: multi-label truth has ", y_true.size(),
               " entries but predictions have ", y_pred.size());
  ACCENT_CHECK(num_labels > 0 && y_true.size() % num_labels == 0, "metrics: ", y_true.size(),
               " multi-label entries are not a multiple of num_labels = ", num_labels);
  const size_t C = static_cast<size_t>(num_labels), N = y_true.size() / C;
  MultiLabelMetrics m;
  std::vector<int64_t> tp(C, 0), fp(C, 0), fn(C, 0);
  int64_t exact = 0;
  for (size_t i = 0; i < N; ++i) {
    bool row_equal = true;
    for (size_t c = 0; c < C; ++c) {
      const bool t = y_true[i * C + c] != 0, p = y_pred[i * C + c] != 0;
      tp[c] += t && p;
      fp[c] += !t && p;
      fn[c] += t && !p;
      row_equal = row_equal && t == p;
    }
    exact += row_equal;
  }
  m.subset_accuracy = safe_div(static_cast<double>(exact), static_cast<double>(N));
  int64_t TP = 0, FP = 0, FN = 0;
  m.per_label.resize(C);
  for (size_t c = 0; c < C; ++c) {
    m.per_label[c] = scores_from_counts(tp[c], fp[c], fn[c]);
    m.macro_f1 += m.per_label[c].f1;
    TP += tp[c], FP += fp[c], FN += fn[c];
  }
  m.macro_f1 /= static_cast<double>(C);
  const ClassScores micro = scores_from_counts(TP, FP, FN);
  m.micro_precision = micro.precision;
  m.micro_recall = micro.recall;
  m.micro_f1 = micro.f1;
  return m;
}

RegressionMetrics regression_metrics(const std::vector<float>& y_true, const std::vector<float>& y_pred) {
  ACCENT_CHECK(y_true.size() == y_pred.size(), "metrics: ", y_true.size(), " regression targets but ",
               y_pred.size(), " predictions");
  RegressionMetrics m;
  const size_t n = y_true.size();
  if (n == 0) return m;
  double se = 0, ae = 0, mean_t = 0, mean_p = 0;
  for (size_t i = 0; i < n; ++i) {
    const double d = static_cast<double>(y_pred[i]) - y_true[i];
    se += d * d;
    ae += std::fabs(d);
    mean_t += y_true[i];
    mean_p += y_pred[i];
  }
  m.mse = se / n;
  m.mae = ae / n;
  mean_t /= n;
  mean_p /= n;
  double stt = 0, spp = 0, stp = 0;
  for (size_t i = 0; i < n; ++i) {
    const double dt = y_true[i] - mean_t, dp = y_pred[i] - mean_p;
    stt += dt * dt;
    spp += dp * dp;
    stp += dt * dp;
  }
  m.pearson = (stt == 0 || spp == 0) ? std::numeric_limits<double>::quiet_NaN() : stp / std::sqrt(stt * spp);
  return m;
}

MetricAccumulator::MetricAccumulator(ProblemType problem_type, int64_t num_labels)
    : problem_type_(problem_type), num_labels_(num_labels) {
  ACCENT_CHECK(num_labels > 0, "metrics: num_labels must be positive, got ", num_labels);
}

void MetricAccumulator::add(const Tensor& logits, const Batch& batch) {
  const int64_t B = batch.B, C = num_labels_;
  ACCENT_CHECK(logits.ndim() == 2 && logits.dim(0) == B && logits.dim(1) == C, "metrics: logits have shape ",
               shape_str(logits.shape()), ", expected [", B, ", ", C, "]");
  const float* z = logits.f32();  // (B, C)
  if (problem_type_ == ProblemType::SingleLabel) {
    if (batch.class_labels.empty()) return;
    ACCENT_CHECK(static_cast<int64_t>(batch.class_labels.size()) == B, "metrics: batch has ",
                 batch.class_labels.size(), " class labels for ", B, " rows");
    for (int64_t b = 0; b < B; ++b) {
      if (batch.class_labels[b] == -100) continue;
      int64_t best = 0;  // first maximum, as numpy/torch argmax
      for (int64_t c = 1; c < C; ++c)
        if (z[b * C + c] > z[b * C + best]) best = c;
      class_true_.push_back(batch.class_labels[b]);
      class_pred_.push_back(best);
      ++num_examples_;
    }
  } else {
    if (batch.float_labels.empty()) return;
    ACCENT_CHECK(static_cast<int64_t>(batch.float_labels.size()) == B * C, "metrics: batch has ",
                 batch.float_labels.size(), " float labels, expected B·C = ", B * C);
    for (int64_t i = 0; i < B * C; ++i) {
      if (problem_type_ == ProblemType::MultiLabel) {
        multi_true_.push_back(batch.float_labels[i] > 0.5f);
        multi_pred_.push_back(z[i] > 0.0f);  // sigmoid(z) > 0.5
      } else {
        reg_true_.push_back(batch.float_labels[i]);
        reg_pred_.push_back(z[i]);
      }
    }
    num_examples_ += B;
  }
}

nlohmann::json MetricAccumulator::summary() const {
  nlohmann::json j = nlohmann::json::object();
  if (num_examples_ == 0) return j;
  switch (problem_type_) {
    case ProblemType::SingleLabel: {
      const SingleLabelMetrics m = single_label_metrics(class_true_, class_pred_, num_labels_);
      j["accuracy"] = m.accuracy;
      j["f1"] = m.macro_f1;
      j["precision"] = m.macro_precision;
      j["recall"] = m.macro_recall;
      break;
    }
    case ProblemType::MultiLabel: {
      const MultiLabelMetrics m = multi_label_metrics(multi_true_, multi_pred_, num_labels_);
      j["accuracy"] = m.subset_accuracy;
      j["f1_micro"] = m.micro_f1;
      j["f1_macro"] = m.macro_f1;
      break;
    }
    case ProblemType::Regression: {
      const RegressionMetrics m = regression_metrics(reg_true_, reg_pred_);
      j["mse"] = m.mse;
      j["mae"] = m.mae;
      j["pearson"] = number_or_null(m.pearson);
      break;
    }
  }
  return j;
}

nlohmann::json MetricAccumulator::report() const {
  nlohmann::json j = summary();
  j["num_examples"] = num_examples_;
  auto class_list = [](const std::vector<ClassScores>& v) {
    nlohmann::json a = nlohmann::json::array();
    for (const ClassScores& s : v)
      a.push_back({{"precision", s.precision}, {"recall", s.recall}, {"f1", s.f1}, {"support", s.support}});
    return a;
  };
  if (num_examples_ == 0) return j;
  if (problem_type_ == ProblemType::SingleLabel) {
    const SingleLabelMetrics m = single_label_metrics(class_true_, class_pred_, num_labels_);
    j["weighted_f1"] = m.weighted_f1;
    j["per_class"] = class_list(m.per_class);
    j["confusion_matrix"] = m.confusion;
  } else if (problem_type_ == ProblemType::MultiLabel) {
    const MultiLabelMetrics m = multi_label_metrics(multi_true_, multi_pred_, num_labels_);
    j["precision_micro"] = m.micro_precision;
    j["recall_micro"] = m.micro_recall;
    j["per_label"] = class_list(m.per_label);
  }
  return j;
}

}  // namespace accent
