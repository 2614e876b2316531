// train/progress.h — what a training run shows while it runs.
//
// Three sinks, chosen by TrainingArguments.progress / disable_tqdm / events_jsonl:
//   bar    a tqdm-like line on stderr, redrawn at most 10×/s:
//          "epoch 2/3  41%|████▏     | 120/291 [00:35<00:49,  3.41it/s, loss=0.4213]"
//   plain  one line on stderr per log/eval/checkpoint event (for logs and pipes, where \r redraws are noise)
//   events one JSON object per line (to stdout or a file) per event, for programs: {"event":"step",...}
// "auto" picks bar when stderr is a terminal (isatty) and plain otherwise.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

namespace accent {

class ProgressReporter {
 public:
  // progress: auto | bar | plain | none; events_jsonl: "" (off), "-" (stdout) or a path (appended).
  // Every event write is checked: a failed write or flush throws accent::Error naming the file.
  ProgressReporter(const std::string& progress, bool disable_tqdm, const std::string& events_jsonl);
  ~ProgressReporter();

  void train_begin(int64_t total_steps, int64_t num_epochs, int64_t start_step, const nlohmann::json& info);
  // After each optimizer step. `loss` is the running mean since the last log (NaN when not known).
  void step(int64_t global_step, int64_t epoch, double fractional_epoch, double running_loss);
  // A log_history entry (training log or evaluation).
  void log(const nlohmann::json& entry);
  void checkpoint(const std::string& dir, int64_t global_step);
  void message(const std::string& text);
  void train_end(const nlohmann::json& metrics);

  bool bar_enabled() const { return mode_ == Mode::Bar; }

  // "00:35", "1:02:03"
  static std::string format_duration(double seconds);
  // "3.41it/s" or "2.50s/it"
  static std::string format_rate(double steps_per_second);

 private:
  enum class Mode { None, Bar, Plain };
  void draw_bar(bool force);
  void clear_bar();
  void emit_event(nlohmann::json event);
  double elapsed() const;

  Mode mode_ = Mode::None;
  FILE* events_ = nullptr;
  std::string events_name_;  // for error messages
  bool own_events_ = false;
  std::chrono::steady_clock::time_point start_, last_draw_;
  int64_t total_steps_ = 0, num_epochs_ = 0, start_step_ = 0, step_ = 0, epoch_ = 0;
  double running_loss_ = 0;
  bool bar_visible_ = false;
};

}  // namespace accent
