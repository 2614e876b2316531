#include "train/progress.h"

#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstring>

#include "core/error.h"

namespace accent {

ProgressReporter::ProgressReporter(const std::string& progress, bool disable_tqdm, const std::string& events_jsonl) {
  if (progress == "bar") mode_ = disable_tqdm ? Mode::Plain : Mode::Bar;
  else if (progress == "plain") mode_ = Mode::Plain;
  else if (progress == "none") mode_ = Mode::None;
  else mode_ = (::isatty(STDERR_FILENO) && !disable_tqdm) ? Mode::Bar : Mode::Plain;
  events_name_ = events_jsonl == "-" ? "standard output (--events-jsonl -)" : events_jsonl;
  if (events_jsonl == "-") {
    events_ = stdout;
  } else if (!events_jsonl.empty()) {
    events_ = std::fopen(events_jsonl.c_str(), "a");
    ACCENT_CHECK(events_ != nullptr, events_jsonl, ": cannot open the events file (", std::strerror(errno), ")");
    own_events_ = true;
  }
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

ProgressReporter::~ProgressReporter() {
  if (bar_visible_) std::fputc('\n', stderr);
  if (own_events_) std::fclose(events_);
}

double ProgressReporter::elapsed() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

std::string ProgressReporter::format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const int64_t s = static_cast<int64_t>(seconds + 0.5);
  char buf[32];
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60), (long long)(s % 60));
  else std::snprintf(buf, sizeof buf, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
  return buf;
}

std::string ProgressReporter::format_rate(double steps_per_second) {
  char buf[32];
  if (!(steps_per_second > 0) || !std::isfinite(steps_per_second)) return "?it/s";
  if (steps_per_second >= 1.0) std::snprintf(buf, sizeof buf, "%.2fit/s", steps_per_second);
  else std::snprintf(buf, sizeof buf, "%.2fs/it", 1.0 / steps_per_second);
  return buf;
}

void ProgressReporter::emit_event(nlohmann::json event) {
  if (!events_) return;
  event["time"] = elapsed();
  const std::string line = event.dump() + "\n";
  // A program reading the events must not see a run that "succeeded" with events missing (a full disk,
  // /dev/full): a failed write or flush stops the run, naming the file.
  errno = 0;
  const bool written = std::fwrite(line.data(), 1, line.size(), events_) == line.size();
  if (!written || std::fflush(events_) != 0) {
    const int err = errno;
    std::clearerr(events_);
    fail(events_name_, ": cannot write the training events: ", err ? std::strerror(err) : "write error");
  }
}

void ProgressReporter::clear_bar() {
  if (!bar_visible_) return;
  std::fputs("\r\033[K", stderr);
  bar_visible_ = false;
}

void ProgressReporter::draw_bar(bool force) {
  if (mode_ != Mode::Bar) return;
  const auto now = std::chrono::steady_clock::now();
  if (!force && now - last_draw_ < std::chrono::milliseconds(100)) return;
  last_draw_ = now;
  const double t = elapsed();
  const int64_t done = step_ - start_step_;
  const double rate = t > 0 ? done / t : 0.0;
  const double eta = rate > 0 ? (total_steps_ - step_) / rate : NAN;
  const double frac = total_steps_ > 0 ? static_cast<double>(step_) / total_steps_ : 0.0;
  // 10-cell bar with eighth-block partials, as tqdm draws it.
  static const char* kPartials[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
  const int width = 10;
  const int eighths = static_cast<int>(frac * width * 8);
  std::string bar;
  for (int i = 0; i < eighths / 8; ++i) bar += "█";
  int cells = eighths / 8;
  if (cells < width && eighths % 8) { bar += kPartials[eighths % 8]; ++cells; }
  for (; cells < width; ++cells) bar += ' ';
  char loss[48] = "";
  if (std::isfinite(running_loss_)) std::snprintf(loss, sizeof loss, ", loss=%.4f", running_loss_);
  std::fprintf(stderr, "\r\033[Kepoch %lld/%lld %3d%%|%s| %lld/%lld [%s<%s, %s%s]", (long long)epoch_ + 1,
               (long long)num_epochs_, static_cast<int>(frac * 100), bar.c_str(), (long long)step_,
               (long long)total_steps_, format_duration(t).c_str(), format_duration(eta).c_str(),
               format_rate(rate).c_str(), loss);
  std::fflush(stderr);
  bar_visible_ = true;
}

void ProgressReporter::train_begin(int64_t total_steps, int64_t num_epochs, int64_t start_step,
                                   const nlohmann::json& info) {
  total_steps_ = total_steps;
  num_epochs_ = num_epochs;
  start_step_ = step_ = start_step;
  running_loss_ = NAN;
  start_ = std::chrono::steady_clock::now();
  nlohmann::json e = info;
  e["event"] = "train_begin";
  e["max_steps"] = total_steps;
  e["num_train_epochs"] = num_epochs;
  e["start_step"] = start_step;
  emit_event(e);
  if (mode_ == Mode::Plain)
    std::fprintf(stderr, "training: %lld steps over %lld epoch(s)%s\n", (long long)total_steps, (long long)num_epochs,
                 start_step > 0 ? (", resuming at step " + std::to_string(start_step)).c_str() : "");
  draw_bar(true);
}

void ProgressReporter::step(int64_t global_step, int64_t epoch, double fractional_epoch, double running_loss) {
  step_ = global_step;
  epoch_ = epoch;
  running_loss_ = running_loss;
  nlohmann::json e = {{"event", "step"}, {"step", global_step}, {"epoch", fractional_epoch}};
  if (std::isfinite(running_loss)) e["running_loss"] = running_loss;
  emit_event(e);
  draw_bar(global_step == total_steps_);
}

void ProgressReporter::log(const nlohmann::json& entry) {
  nlohmann::json e = entry;
  e["event"] = entry.contains("eval_loss") || entry.contains("eval_runtime") ? "eval" : "log";
  emit_event(e);
  if (mode_ == Mode::None) return;
  clear_bar();
  std::fprintf(stderr, "%s\n", entry.dump().c_str());
  draw_bar(true);
}

void ProgressReporter::checkpoint(const std::string& dir, int64_t global_step) {
  emit_event({{"event", "checkpoint"}, {"step", global_step}, {"path", dir}});
  if (mode_ == Mode::Plain) std::fprintf(stderr, "saved checkpoint %s\n", dir.c_str());
}

void ProgressReporter::message(const std::string& text) {
  emit_event({{"event", "message"}, {"text", text}});
  if (mode_ == Mode::None) return;
  clear_bar();
  std::fprintf(stderr, "%s\n", text.c_str());
  draw_bar(true);
}

void ProgressReporter::train_end(const nlohmann::json& metrics) {
  nlohmann::json e = metrics;
  e["event"] = "train_end";
  emit_event(e);
  if (mode_ == Mode::None) return;
  if (mode_ == Mode::Bar) {  // keep the final bar on screen, then the summary under it
    draw_bar(true);
    std::fputc('\n', stderr);
    bar_visible_ = false;
  }
  std::fprintf(stderr, "%s\n", metrics.dump().c_str());
}

}  // namespace accent
