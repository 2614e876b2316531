#include "train/training_report.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "train/html_page.h"
#include "train/svg_chart.h"

namespace accent {

namespace {

using nlohmann::json;


double num(const json& v) { return v.is_number() ? v.get<double>() : std::nan(""); }

// Timing and throughput keys are not quality metrics.
bool is_speed_key(const std::string& key) {
  return key.ends_with("_runtime") || key.ends_with("_per_second") || key.ends_with("_samples");
}

std::string label_name(const TrainingReportInput& in, size_t i) {
  return i < in.labels.size() ? in.labels[i] : "LABEL_" + std::to_string(i);
}

// ---- training curves: log_history's training logs (loss, learning_rate, grad_norm) and evaluations ----
std::string curves_section(const TrainingReportInput& in) {
  ChartSeries loss{"train loss", {}}, eval_loss{"eval loss", {}}, lr{"learning rate", {}}, grad{"gradient norm", {}};
  std::map<std::string, ChartSeries> eval_metrics;  // eval_accuracy → its points
  int64_t train_logs = 0, evaluations = 0;
  for (const json& e : in.log_history) {
    if (!e.is_object() || !e.contains("step") || !e["step"].is_number()) continue;
    const double step = num(e["step"]);
    if (e.contains("loss")) {
      ++train_logs;
      loss.points.emplace_back(step, num(e["loss"]));
      if (e.contains("learning_rate")) lr.points.emplace_back(step, num(e["learning_rate"]));
      if (e.contains("grad_norm")) grad.points.emplace_back(step, num(e["grad_norm"]));
    } else if (e.contains("eval_loss") || e.contains("eval_runtime")) {
      ++evaluations;
      for (const auto& [key, value] : e.items()) {
        if (!key.starts_with("eval_") || is_speed_key(key) || !value.is_number()) continue;
        if (key == "eval_loss") eval_loss.points.emplace_back(step, num(value));
        else eval_metrics.try_emplace(key, ChartSeries{key.substr(5), {}}).first->second.points.emplace_back(step, num(value));
      }
    }
  }
  std::string s = "<section id=\"curves\"><h2>Training curves</h2><p class=\"note\">" + std::to_string(train_logs) +
                  " training logs and " + std::to_string(evaluations) +
                  " evaluations (trainer_state.json's log_history; the loss is the mean over the steps since the "
                  "previous log, as Hugging Face's Trainer logs it).</p><div class=\"charts\">";
  std::vector<ChartSeries> loss_series{loss};
  if (!eval_loss.points.empty()) loss_series.push_back(eval_loss);
  s += svg_line_chart(loss_series, {"Loss", "step", "loss"});
  s += svg_line_chart({lr}, {"Learning rate", "step", "learning rate"});
  s += svg_line_chart({grad}, {"Gradient norm (before clipping)", "step", "L2 norm"});
  if (!eval_metrics.empty()) {
    std::vector<ChartSeries> metrics;
    for (auto& [key, series] : eval_metrics) metrics.push_back(series);
    s += svg_line_chart(metrics, {"Evaluation metrics", "step", "value"});
  }
  return s + "</div></section>";
}

// ---- the final evaluation: confusion matrix and per-class scores ----
std::string evaluation_section(const TrainingReportInput& in) {
  std::string s = "<section id=\"evaluation\"><h2>Final evaluation</h2>";
  if (!in.eval_metrics.is_object()) return s + "<p class=\"note\">No validation data: nothing was evaluated.</p></section>";
  s += "<div class=\"cards\">";
  for (const auto& [key, value] : in.eval_metrics.items())
    if (value.is_number() && !is_speed_key(key)) s += html_card(key, format_number(num(value)));
  s += "</div>";
  const json& report = in.eval_report;
  if (report.is_object() && report.contains("confusion_matrix") && report["confusion_matrix"].is_array()) {
    const json& cm = report["confusion_matrix"];
    const size_t C = cm.size();
    s += "<h3>Confusion matrix</h3><p class=\"note\">Rows: true label; columns: predicted label. A cell's shade is its "
         "share of the row (blue on the diagonal: right; red elsewhere: mistaken for that label).</p>"
         "<table class=\"confusion\" id=\"confusion-matrix\"><tr><th class=\"name\">true \\ predicted</th>";
    for (size_t j = 0; j < C; ++j) s += "<th>" + html_escape(label_name(in, j)) + "</th>";
    s += "<th>total</th></tr>";
    for (size_t i = 0; i < C; ++i) {
      double total = 0;
      for (size_t j = 0; j < cm[i].size(); ++j) total += num(cm[i][j]);
      s += "<tr><th class=\"name\">" + html_escape(label_name(in, i)) + "</th>";
      for (size_t j = 0; j < cm[i].size(); ++j) {
        const double v = num(cm[i][j]);
        const double share = total > 0 ? v / total : 0;
        char bg[64];
        std::snprintf(bg, sizeof bg, i == j ? "rgba(0,114,178,%.3f)" : "rgba(213,94,0,%.3f)", 0.08 + 0.72 * share);
        s += "<td data-row=\"" + std::to_string(i) + "\" data-col=\"" + std::to_string(j) + "\" style=\"background:" +
             bg + (share > 0.55 ? ";color:#fff" : "") + "\">" + format_number(v) + "</td>";
      }
      s += "<td>" + format_number(total) + "</td></tr>";
    }
    s += "</table>";
  }
  const char* per_key = report.is_object() && report.contains("per_class") ? "per_class"
                        : report.is_object() && report.contains("per_label") ? "per_label" : nullptr;
  if (per_key) {
    s += std::string("<h3>Per-") + (std::string(per_key) == "per_class" ? "class" : "label") +
         " scores</h3><table id=\"per-class\">" + html_row({"label", "precision", "recall", "F1", "support"}, true);
    const json& list = report[per_key];
    for (size_t i = 0; i < list.size(); ++i) {
      const json& c = list[i];
      s += html_row({html_escape(label_name(in, i)), format_number(num(c.value("precision", json()))),
                format_number(num(c.value("recall", json()))), format_number(num(c.value("f1", json()))),
                format_number(num(c.value("support", json())))});
    }
    s += "</table><p class=\"note\">scikit-learn's definitions (zero_division = 0).</p>";
  }
  return s + "</section>";
}

// ---- the data: rows, labels, token lengths ----
std::string data_section(const TrainingReportInput& in) {
  std::string s = "<section id=\"data\"><h2>Data</h2><table id=\"data-summary\">" +
                  html_row({"split", "source", "rows", "truncated to " + std::to_string(in.max_length) + " tokens",
                       "mean tokens", "longest"}, true);
  for (const ReportSplit& sp : in.splits) {
    double mean = 0;
    int64_t longest = 0;
    for (int64_t n : sp.token_lengths) mean += static_cast<double>(n), longest = std::max(longest, n);
    if (!sp.token_lengths.empty()) mean /= static_cast<double>(sp.token_lengths.size());
    s += html_row({html_escape(sp.name), html_escape(sp.source), std::to_string(sp.rows), std::to_string(sp.truncated),
              format_number(std::round(mean * 10) / 10), std::to_string(longest)});
  }
  s += "</table>";
  if (!in.labels.empty()) {
    s += "<h3>Labels</h3><table id=\"label-counts\">";
    std::vector<std::string> head{"label"};
    for (const ReportSplit& sp : in.splits) head.push_back(html_escape(sp.name));
    s += html_row(head, true);
    for (size_t c = 0; c < in.labels.size(); ++c) {
      std::vector<std::string> cells{html_escape(in.labels[c])};
      for (const ReportSplit& sp : in.splits)
        cells.push_back(c < sp.label_counts.size() ? std::to_string(sp.label_counts[c]) : "");
      s += html_row(cells);
    }
    s += "</table>";
  }
  s += "<div class=\"charts\">";
  if (!in.labels.empty() && !in.splits.empty()) {
    std::vector<ChartBar> bars;
    for (size_t c = 0; c < in.labels.size() && c < in.splits[0].label_counts.size(); ++c)
      bars.push_back({in.labels[c], static_cast<double>(in.splits[0].label_counts[c])});
    s += svg_bar_chart(bars, {"Examples per label (" + in.splits[0].name + ")", "label", "examples"});
  }
  if (!in.splits.empty()) {
    // Token lengths in at most 32 bins of equal width.
    const std::vector<int64_t>& lengths = in.splits[0].token_lengths;
    int64_t longest = 0;
    for (int64_t n : lengths) longest = std::max(longest, n);
    const int64_t width = std::max<int64_t>(1, (longest + 32) / 32);
    std::vector<ChartBar> bins(static_cast<size_t>(longest / width + 1));
    for (size_t b = 0; b < bins.size(); ++b) {
      const int64_t lo = static_cast<int64_t>(b) * width, hi = lo + width - 1;
      bins[b].label = width == 1 ? std::to_string(lo) : std::to_string(lo) + "–" + std::to_string(hi);
    }
    for (int64_t n : lengths) bins[static_cast<size_t>(n / width)].value += 1;
    if (lengths.empty()) bins.clear();
    s += svg_bar_chart(bins, {"Tokens per example (" + in.splits[0].name + ", after truncation)", "tokens", "examples"});
  }
  return s + "</div></section>";
}

std::string settings_section(const TrainingReportInput& in) {
  std::string s = "<section id=\"settings\"><h2>Run settings</h2><table>" + html_row({"setting", "value"}, true);
  s += html_row({"model", html_escape(in.model)});
  s += html_row({"problem_type", html_escape(in.problem_type)});
  s += html_row({"max_length", std::to_string(in.max_length)});
  for (const auto& [key, value] : in.settings.items())
    s += html_row({html_escape(key), html_escape(value.is_string() ? value.get<std::string>() : value.dump())});
  return s + "</table><p class=\"note\">As saved in training_args.json.</p></section>";
}

std::string timings_section(const TrainingReportInput& in) {
  std::string s = "<section id=\"timings\"><h2>Timings</h2><table>" + html_row({"phase", "seconds", "share"}, true);
  double total = 0;
  for (const auto& [phase, seconds] : in.timings) total += seconds;
  for (const auto& [phase, seconds] : in.timings) {
    char share[32];
    std::snprintf(share, sizeof share, "%.1f%%", total > 0 ? 100.0 * seconds / total : 0.0);
    s += html_row({html_escape(phase), format_number(std::round(seconds * 1000) / 1000), share});
  }
  s += html_row({"<b>total</b>", format_number(std::round(total * 1000) / 1000), ""}) + "</table>";
  std::string speeds;
  for (const json* m : {&in.train_metrics, &in.eval_metrics})
    if (m->is_object())
      for (const auto& [key, value] : m->items())
        if (is_speed_key(key) && value.is_number()) speeds += html_row({html_escape(key), format_number(num(value))});
  if (!speeds.empty()) s += "<h3>Throughput</h3><table>" + html_row({"metric", "value"}, true) + speeds + "</table>";
  return s + "</section>";
}

}  // namespace

std::string training_report_html(const TrainingReportInput& in) {
  std::string s = html_page_begin("accent training report — " + in.model,
                                  in.model + " → " + in.output_dir + " · " + in.problem_type +
                                      (in.finished_at.empty() ? "" : " · finished " + in.finished_at));
  // Headline numbers.
  s += "<section id=\"summary\"><h2>Summary</h2><div class=\"cards\">";
  for (const char* key : {"eval_accuracy", "eval_f1", "eval_loss", "eval_mse", "eval_pearson"})
    if (in.eval_metrics.is_object() && in.eval_metrics.contains(key) && in.eval_metrics[key].is_number())
      s += html_card(key, format_number(num(in.eval_metrics[key])));
  for (const char* key : {"train_loss", "epoch", "train_runtime"})
    if (in.train_metrics.contains(key) && in.train_metrics[key].is_number())
      s += html_card(key, format_number(num(in.train_metrics[key])));
  int64_t last_step = 0;
  for (const json& e : in.log_history)
    if (e.is_object() && e.contains("step") && e["step"].is_number_integer()) last_step = std::max(last_step, e["step"].get<int64_t>());
  s += html_card("optimizer steps", std::to_string(last_step));
  s += "</div></section>";
  s += curves_section(in);
  s += evaluation_section(in);
  s += data_section(in);
  s += settings_section(in);
  s += timings_section(in);
  s += html_page_end();
  return s;
}

}  // namespace accent
