// report.html's pieces (train/training_report.h, train/svg_chart.h): the numbers on the page are the ones given, user
// text (label names, paths) is escaped, non-finite values do not break a chart, and the axes cover the data.
#include <gtest/gtest.h>

#include <cmath>
#include <regex>

#include "train/svg_chart.h"
#include "train/training_report.h"

using namespace accent;
using nlohmann::json;

namespace {

size_t count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

// The data-points attribute of the polyline named `series`.
int points_of(const std::string& html, const std::string& series) {
  const std::regex re("data-series=\"" + series + "\" data-points=\"([0-9]+)\"");
  std::smatch m;
  if (!std::regex_search(html, m, re)) return -1;
  return std::stoi(m[1].str());
}

TrainingReportInput sample_input() {
  TrainingReportInput in;
  in.model = "tiny-bert <dir>";
  in.output_dir = "/tmp/out";
  in.problem_type = "single_label_classification";
  in.labels = {"neg & sad", "<b>pos</b>", "neutral"};
  in.max_length = 16;
  ReportSplit train;
  train.name = "train";
  train.source = "train.csv";
  train.rows = 6;
  train.label_counts = {3, 2, 1};
  train.token_lengths = {4, 5, 16, 16, 9, 3};
  train.truncated = 2;
  in.splits.push_back(train);
  in.log_history = json::array({
      {{"loss", 1.1}, {"grad_norm", 2.5}, {"learning_rate", 1e-4}, {"epoch", 0.5}, {"step", 1}},
      {{"loss", 0.9}, {"grad_norm", NAN}, {"learning_rate", 5e-5}, {"epoch", 1.0}, {"step", 2}},
      {{"eval_loss", 0.8}, {"eval_accuracy", 0.75}, {"eval_runtime", 0.1}, {"epoch", 1.0}, {"step", 2}},
      {{"loss", 0.7}, {"grad_norm", 1.5}, {"learning_rate", 0.0}, {"epoch", 1.5}, {"step", 3}},
      {{"eval_loss", 0.6}, {"eval_accuracy", 0.875}, {"eval_runtime", 0.1}, {"epoch", 1.5}, {"step", 3}},
      {{"train_runtime", 1.5}, {"train_loss", 0.9}, {"epoch", 1.5}, {"step", 3}}});
  in.train_metrics = {{"train_runtime", 1.5}, {"train_loss", 0.9}, {"train_samples_per_second", 12.0}, {"epoch", 1.5}};
  in.eval_metrics = {{"eval_loss", 0.6}, {"eval_accuracy", 0.875}, {"eval_runtime", 0.1}};
  in.eval_report = {{"confusion_matrix", {{3, 1, 0}, {0, 2, 0}, {0, 0, 2}}},
                    {"per_class", {{{"precision", 1.0}, {"recall", 0.75}, {"f1", 0.857}, {"support", 4}},
                                   {{"precision", 0.667}, {"recall", 1.0}, {"f1", 0.8}, {"support", 2}},
                                   {{"precision", 1.0}, {"recall", 1.0}, {"f1", 1.0}, {"support", 2}}}}};
  in.settings = {{"learning_rate", 1e-4}, {"lr_scheduler_type", "linear"}};
  in.timings = {{"read data", 0.25}, {"train", 1.5}};
  return in;
}

}  // namespace

TEST(TrainingReport, ShowsTheGivenNumbersAndEscapesUserText) {
  const std::string html = training_report_html(sample_input());
  // User text is escaped everywhere (the labels appear in the confusion matrix, the per-class and label tables).
  EXPECT_EQ(html.find("<b>pos</b>"), std::string::npos);
  EXPECT_EQ(html.find("<dir>"), std::string::npos);
  EXPECT_GE(count(html, "&lt;b&gt;pos&lt;/b&gt;"), 3u);
  EXPECT_GE(count(html, "neg &amp; sad"), 3u);
  // One polyline point per finite logged value: 3 losses, 2 eval losses, 2 finite gradient norms (one NaN).
  EXPECT_EQ(points_of(html, "train loss"), 3);
  EXPECT_EQ(points_of(html, "eval loss"), 2);
  EXPECT_EQ(points_of(html, "gradient norm"), 2);
  EXPECT_EQ(points_of(html, "learning rate"), 3);
  EXPECT_EQ(points_of(html, "accuracy"), 2);
  EXPECT_NE(html.find("1 non-finite value not drawn"), std::string::npos);
  // The confusion matrix cell by cell (row = true label).
  const std::regex cell("data-row=\"([0-9])\" data-col=\"([0-9])\" style=\"[^\"]*\">([0-9]+)<");
  int cells = 0;
  const json cm = sample_input().eval_report["confusion_matrix"];
  for (std::sregex_iterator it(html.begin(), html.end(), cell), end; it != end; ++it, ++cells)
    EXPECT_EQ(std::stoi((*it)[3].str()), cm[std::stoi((*it)[1].str())][std::stoi((*it)[2].str())].get<int>());
  EXPECT_EQ(cells, 9);
  // Data: 2 of 6 truncated; the token-length histogram has a bar per length 0..16 (one token per bin at this size).
  EXPECT_NE(html.find("<td>6</td><td>2</td>"), std::string::npos);
  EXPECT_EQ(count(html, "<rect class=\"bar\""), 3u + 17u);
  // Self-contained: no script, nothing fetched.
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("http://"), std::string::npos);
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));
  EXPECT_EQ(count(html, "<section"), count(html, "</section>"));
}

TEST(TrainingReport, WithoutValidationOrLogsSaysSo) {
  TrainingReportInput in;
  in.model = "m";
  in.problem_type = "regression";
  const std::string html = training_report_html(in);
  EXPECT_NE(html.find("No validation data"), std::string::npos);
  EXPECT_NE(html.find(">no data<"), std::string::npos);
  EXPECT_EQ(html.find("confusion-matrix"), std::string::npos);
}

TEST(SvgChart, NiceTicksCoverTheRangeWithRoundSteps) {
  for (auto [lo, hi] : std::vector<std::pair<double, double>>{{0, 1}, {0.31, 0.93}, {-3, 1700}, {5, 5}, {1e-6, 3e-5}}) {
    const std::vector<double> t = nice_ticks(lo, hi, 5);
    ASSERT_GE(t.size(), 2u) << lo << " " << hi;
    EXPECT_LE(t.front(), lo);
    EXPECT_GE(t.back(), hi);
    EXPECT_LE(t.size(), 12u);
    const double step = t[1] - t[0];
    const double mantissa = step / std::pow(10.0, std::floor(std::log10(step)));
    EXPECT_TRUE(std::abs(mantissa - 1) < 1e-9 || std::abs(mantissa - 2) < 1e-9 || std::abs(mantissa - 5) < 1e-9)
        << step;
  }
  EXPECT_EQ(nice_ticks(0, 1, 5), (std::vector<double>{0, 0.2, 0.4, 0.6, 0.8, 1.0}));
}

TEST(SvgChart, LongLabelsAreShortenedAtACharacterBoundary) {
  // 11 bytes would cut "é" (2 bytes) in half.
  const std::string svg = svg_bar_chart({{"abcdefghijé-and-more", 3}}, {"t", "x", "y"});
  EXPECT_NE(svg.find(">abcdefghij…<"), std::string::npos) << svg;
  EXPECT_NE(svg.find("<title>abcdefghijé-and-more: 3</title>"), std::string::npos);
}

TEST(SvgChart, FormatsNumbersForPeople) {
  EXPECT_EQ(format_number(3), "3");
  EXPECT_EQ(format_number(0.875), "0.875");
  EXPECT_EQ(format_number(5e-5), "5e-05");
  EXPECT_EQ(format_number(8e-4), "0.0008");
  EXPECT_EQ(format_number(1.0 / 3), "0.3333");
  EXPECT_EQ(html_escape("a<b>&\"'"), "a&lt;b&gt;&amp;&quot;&#39;");
}
