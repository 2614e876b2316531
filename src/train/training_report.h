// train/training_report.h — report.html, the page `accent train` leaves in its output directory (--report-to html,
// the default): one self-contained file (inline CSS and SVG, no script, nothing fetched) that shows
//   - training curves: loss (and eval loss), learning rate and gradient norm per logged step, every evaluation metric
//     per evaluation (from trainer_state.json's log_history, the same entries HF's Trainer logs);
//   - the final evaluation: the confusion matrix (rows = true label, columns = predicted; cells shaded by their share
//     of the row) and per-class precision / recall / F1 / support (train/metrics.h);
//   - the data: rows per split, label counts, the token-length histogram after truncation and how many were cut;
//   - the run settings (training_args.json's values) and timings per phase.
#pragma once
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace accent {

struct ReportSplit {
  std::string name;                  // "train", "validation"
  std::string source;                // file it came from (and how: "split off train.csv")
  int64_t rows = 0;
  std::vector<int64_t> label_counts;  // (C) examples per label (multi-label: examples carrying it); empty for regression
  std::vector<int64_t> token_lengths;  // (rows) tokens per example after truncation, special tokens included
  int64_t truncated = 0;              // examples cut to max_length
};

struct TrainingReportInput {
  std::string model;                 // as given (directory or hub id), with LoRA / freezing settings
  std::string output_dir;
  std::string problem_type;          // single_label_classification | multi_label_classification | regression
  std::vector<std::string> labels;   // (C) names in id order
  int64_t max_length = 0;
  std::vector<ReportSplit> splits;
  nlohmann::json log_history = nlohmann::json::array();  // trainer_state.json's
  nlohmann::json train_metrics = nlohmann::json::object();  // train_results.json
  nlohmann::json eval_metrics;       // eval_results.json (null when there was no validation data)
  nlohmann::json eval_report;        // MetricAccumulator::report(): per_class / per_label, confusion_matrix
  nlohmann::json settings = nlohmann::json::object();  // training_args.json
  std::vector<std::pair<std::string, double>> timings;  // (phase, seconds) in order
  std::string finished_at;           // UTC time the run ended, ISO 8601
};

// The whole page.
std::string training_report_html(const TrainingReportInput& input);

}  // namespace accent
