// train/svg_chart.h — small charts as inline SVG text for the HTML reports (no script, no external resource): a
// line chart of one or more series over a shared x axis, and a bar chart of labelled values. Hovering a point or a
// bar shows its value through SVG <title> (the browser's own tooltip).
//
// Axes use "nice" ticks: the step is 1, 2 or 5 × 10^k, chosen so that about `max_ticks` ticks cover [lo, hi].
// Non-finite points (a NaN gradient norm, an infinite loss) are left out of the line and counted in the caption.
#pragma once
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace accent {

struct ChartSeries {
  std::string name;
  std::vector<std::pair<double, double>> points;  // (x, y), in x order
};

struct ChartOptions {
  std::string title;
  std::string x_label;
  std::string y_label;
  int width = 560;   // px
  int height = 260;  // px
};

std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& options);

struct ChartBar {
  std::string label;
  double value = 0;
};

// Bars from 0; labels under the bars (shortened when long, the whole label in the tooltip).
std::string svg_bar_chart(const std::vector<ChartBar>& bars, const ChartOptions& options);

struct ChartShift {
  std::string label;
  double from = 0, to = 0;
};

// A dumbbell chart: one row per label, a grey dot at `from` joined to a dot at `to` (vermillion where the value
// rose, blue where it fell) on a shared horizontal axis from 0; the height follows the rows (options.height is
// ignored). Each row carries data-from/data-to and a tooltip "label: from → to".
std::string svg_dumbbell_chart(const std::vector<ChartShift>& rows, const ChartOptions& options);

// Tick positions: multiples of a 1/2/5 × 10^k step from ≤ lo to ≥ hi, at most about max_ticks + 1 of them.
std::vector<double> nice_ticks(double lo, double hi, int max_ticks);

// Text for HTML and SVG: & < > " ' escaped.
std::string html_escape(std::string_view text);

// A number for people: integers as integers, otherwise 4 significant digits (printf's %g: scientific when tiny or
// huge).
std::string format_number(double v);

}  // namespace accent
