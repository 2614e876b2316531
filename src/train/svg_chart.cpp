#include "train/svg_chart.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>

namespace accent {

namespace {

// Series colours (colour-blind safe, Okabe–Ito).
constexpr const char* kColors[] = {"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"};
constexpr int kColorCount = sizeof(kColors) / sizeof(kColors[0]);

// Plot area inside the SVG box.
struct Frame {
  double left = 74, right = 16, top = 30, bottom = 44;
  double width, height;  // of the whole box
  double x0() const { return left; }
  double x1() const { return width - right; }
  double y0() const { return height - bottom; }  // bottom of the plot (screen y grows downwards)
  double y1() const { return top; }
};

std::string px(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", v);
  return buf;
}

// Widens a degenerate range so that a constant series still gets an axis.
void widen(double& lo, double& hi) {
  if (!(hi > lo)) {
    const double pad = lo == 0 ? 1.0 : std::abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
}

std::string open_svg(const ChartOptions& o, const std::string& kind) {
  std::string s = "<svg class=\"chart " + kind + "\" role=\"img\" width=\"" + std::to_string(o.width) + "\" height=\"" +
                  std::to_string(o.height) + "\" viewBox=\"0 0 " + std::to_string(o.width) + " " +
                  std::to_string(o.height) + "\" aria-label=\"" + html_escape(o.title) + "\">";
  s += "<text class=\"chart-title\" x=\"" + px(o.width / 2.0) + "\" y=\"18\" text-anchor=\"middle\">" +
       html_escape(o.title) + "</text>";
  return s;
}

std::string axis_labels(const Frame& f, const ChartOptions& o) {
  std::string s;
  if (!o.x_label.empty())
    s += "<text class=\"axis-label\" x=\"" + px((f.x0() + f.x1()) / 2) + "\" y=\"" + px(f.height - 6) +
         "\" text-anchor=\"middle\">" + html_escape(o.x_label) + "</text>";
  if (!o.y_label.empty())
    s += "<text class=\"axis-label\" transform=\"translate(12," + px((f.y0() + f.y1()) / 2) +
         ") rotate(-90)\" text-anchor=\"middle\">" + html_escape(o.y_label) + "</text>";
  return s;
}

// The text of a chart with nothing to draw, closing the SVG.
std::string no_data(const ChartOptions& o) {
  return "<text class=\"empty\" x=\"" + px(o.width / 2.0) + "\" y=\"" + px(o.height / 2.0) +
         "\" text-anchor=\"middle\">no data</text></svg>";
}

// A label cut to `max_bytes` − 1 bytes at a UTF-8 character boundary, with "…", when longer than `max_bytes`.
std::string shortened(const std::string& label, size_t max_bytes) {
  if (label.size() <= max_bytes) return label;
  size_t cut = max_bytes - 1;
  while (cut > 0 && (static_cast<unsigned char>(label[cut]) & 0xC0) == 0x80) --cut;
  return label.substr(0, cut) + "…";
}

}  // namespace

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double v) {
  if (!std::isfinite(v)) return std::isnan(v) ? "NaN" : (v > 0 ? "∞" : "−∞");
  char buf[48];
  if (v == std::round(v) && std::abs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.4g", v);
  }
  return buf;
}

std::vector<double> nice_ticks(double lo, double hi, int max_ticks) {
  widen(lo, hi);
  max_ticks = std::max(max_ticks, 1);
  const double raw = (hi - lo) / max_ticks;
  const int exponent = static_cast<int>(std::floor(std::log10(raw)));
  const double magnitude = std::pow(10.0, exponent);
  double mantissa = 1;
  for (double m : {1.0, 2.0, 5.0, 10.0}) {
    mantissa = m;
    if (m * magnitude >= raw) break;
  }
  const double step = mantissa * magnitude;
  // Tick k is k·mantissa·10^exponent, computed as an integer count scaled once (a division by an exact power of ten
  // when exponent < 0) so that 0.6 reads 0.6 and not 0.6000000000000001.
  auto tick = [&](double k) {
    return exponent >= 0 ? k * mantissa * magnitude : k * mantissa / std::pow(10.0, -exponent);
  };
  std::vector<double> ticks;
  const double first = std::floor(lo / step);
  for (int i = 0; i < 1000; ++i) {
    const double t = tick(first + i);
    ticks.push_back(t == 0 ? 0.0 : t);  // no "-0"
    if (t >= hi - step * 1e-9) break;
  }
  return ticks;
}

std::string svg_line_chart(const std::vector<ChartSeries>& series, const ChartOptions& o) {
  Frame f;
  f.width = o.width;
  f.height = o.height;
  double xmin = std::numeric_limits<double>::infinity(), xmax = -xmin, ymin = xmin, ymax = -xmin;
  int64_t skipped = 0, shown = 0;
  for (const ChartSeries& s : series)
    for (const auto& [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) {
        ++skipped;
        continue;
      }
      ++shown;
      xmin = std::min(xmin, x), xmax = std::max(xmax, x), ymin = std::min(ymin, y), ymax = std::max(ymax, y);
    }
  std::string s = open_svg(o, "line-chart");
  if (shown == 0) {
    return s + no_data(o);
  }
  const std::vector<double> xt = nice_ticks(xmin, xmax, 6), yt = nice_ticks(ymin, ymax, 5);
  const double xlo = xt.front(), xhi = xt.back(), ylo = yt.front(), yhi = yt.back();
  auto sx = [&](double x) { return f.x0() + (x - xlo) / (xhi - xlo) * (f.x1() - f.x0()); };
  auto sy = [&](double y) { return f.y0() - (y - ylo) / (yhi - ylo) * (f.y0() - f.y1()); };

  // Grid and tick labels.
  for (double t : yt)
    s += "<line class=\"grid\" x1=\"" + px(f.x0()) + "\" x2=\"" + px(f.x1()) + "\" y1=\"" + px(sy(t)) + "\" y2=\"" +
         px(sy(t)) + "\"/><text class=\"tick\" x=\"" + px(f.x0() - 6) + "\" y=\"" + px(sy(t) + 4) +
         "\" text-anchor=\"end\">" + format_number(t) + "</text>";
  for (double t : xt)
    s += "<text class=\"tick\" x=\"" + px(sx(t)) + "\" y=\"" + px(f.y0() + 16) + "\" text-anchor=\"middle\">" +
         format_number(t) + "</text>";
  s += "<line class=\"axis\" x1=\"" + px(f.x0()) + "\" x2=\"" + px(f.x1()) + "\" y1=\"" + px(f.y0()) + "\" y2=\"" +
       px(f.y0()) + "\"/><line class=\"axis\" x1=\"" + px(f.x0()) + "\" x2=\"" + px(f.x0()) + "\" y1=\"" +
       px(f.y0()) + "\" y2=\"" + px(f.y1()) + "\"/>";
  s += axis_labels(f, o);

  for (size_t k = 0; k < series.size(); ++k) {
    const char* color = kColors[k % kColorCount];
    std::string points;
    std::string markers;
    int64_t n = 0;
    for (const auto& [x, y] : series[k].points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      points += (n++ ? " " : "") + px(sx(x)) + "," + px(sy(y));
    }
    s += "<polyline class=\"series\" data-series=\"" + html_escape(series[k].name) + "\" data-points=\"" +
         std::to_string(n) + "\" fill=\"none\" stroke=\"" + color + "\" stroke-width=\"1.8\" points=\"" + points + "\"/>";
    // Markers with tooltips while they stay readable.
    if (n <= 120)
      for (const auto& [x, y] : series[k].points) {
        if (!std::isfinite(x) || !std::isfinite(y)) continue;
        markers += "<circle cx=\"" + px(sx(x)) + "\" cy=\"" + px(sy(y)) + "\" r=\"2.6\" fill=\"" + color + "\"><title>" +
                   html_escape(series[k].name) + " at " + html_escape(o.x_label) + " " + format_number(x) + ": " +
                   format_number(y) + "</title></circle>";
      }
    s += markers;
  }
  // Legend (top right) when several series share the chart.
  if (series.size() > 1)
    for (size_t k = 0; k < series.size(); ++k) {
      const double y = f.y1() + 4 + 14.0 * k;
      s += "<rect x=\"" + px(f.x1() - 120) + "\" y=\"" + px(y) + "\" width=\"10\" height=\"10\" fill=\"" +
           kColors[k % kColorCount] + "\"/><text class=\"legend\" x=\"" + px(f.x1() - 106) + "\" y=\"" + px(y + 9) +
           "\">" + html_escape(series[k].name) + "</text>";
    }
  if (skipped > 0)
    s += "<text class=\"note\" x=\"" + px(f.x1()) + "\" y=\"" + px(f.height - 6) + "\" text-anchor=\"end\">" +
         std::to_string(skipped) + " non-finite value" + (skipped > 1 ? "s" : "") + " not drawn</text>";
  s += "</svg>";
  return s;
}

std::string svg_bar_chart(const std::vector<ChartBar>& bars, const ChartOptions& o) {
  Frame f;
  f.width = o.width;
  f.height = o.height;
  std::string s = open_svg(o, "bar-chart");
  if (bars.empty()) {
    return s + no_data(o);
  }
  double vmax = 0;
  for (const ChartBar& b : bars)
    if (std::isfinite(b.value)) vmax = std::max(vmax, b.value);
  const std::vector<double> yt = nice_ticks(0, vmax > 0 ? vmax : 1, 5);
  const double yhi = yt.back();
  auto sy = [&](double y) { return f.y0() - y / yhi * (f.y0() - f.y1()); };
  for (double t : yt)
    s += "<line class=\"grid\" x1=\"" + px(f.x0()) + "\" x2=\"" + px(f.x1()) + "\" y1=\"" + px(sy(t)) + "\" y2=\"" +
         px(sy(t)) + "\"/><text class=\"tick\" x=\"" + px(f.x0() - 6) + "\" y=\"" + px(sy(t) + 4) +
         "\" text-anchor=\"end\">" + format_number(t) + "</text>";
  const double slot = (f.x1() - f.x0()) / static_cast<double>(bars.size());
  const double bar_width = std::max(1.0, slot * 0.8);
  // Every k-th label so that labels never overlap (about 7 px per character at the tick font size).
  size_t longest = 1;
  for (const ChartBar& b : bars) longest = std::max(longest, std::min<size_t>(b.label.size(), 12));
  const size_t label_every = std::max<size_t>(1, static_cast<size_t>(std::ceil(longest * 7.0 / slot)));
  for (size_t i = 0; i < bars.size(); ++i) {
    const ChartBar& b = bars[i];
    const double v = std::isfinite(b.value) ? std::max(0.0, b.value) : 0.0;
    const double x = f.x0() + slot * i + (slot - bar_width) / 2;
    s += "<rect class=\"bar\" x=\"" + px(x) + "\" y=\"" + px(sy(v)) + "\" width=\"" + px(bar_width) + "\" height=\"" +
         px(f.y0() - sy(v)) + "\" fill=\"" + kColors[0] + "\"><title>" + html_escape(b.label) + ": " +
         format_number(b.value) + "</title></rect>";
    if (i % label_every == 0) {
      const std::string label = shortened(b.label, 12);
      s += "<text class=\"tick\" x=\"" + px(x + bar_width / 2) + "\" y=\"" + px(f.y0() + 16) +
           "\" text-anchor=\"middle\">" + html_escape(label) + "</text>";
    }
  }
  s += "<line class=\"axis\" x1=\"" + px(f.x0()) + "\" x2=\"" + px(f.x1()) + "\" y1=\"" + px(f.y0()) + "\" y2=\"" +
       px(f.y0()) + "\"/>";
  s += axis_labels(f, o);
  s += "</svg>";
  return s;
}

std::string svg_dumbbell_chart(const std::vector<ChartShift>& rows, const ChartOptions& options) {
  constexpr double kRow = 18;
  ChartOptions o = options;
  Frame f;
  f.left = 120;  // the row labels
  f.bottom = 40;
  o.height = static_cast<int>(f.top + f.bottom + kRow * static_cast<double>(std::max<size_t>(rows.size(), 1)));
  f.width = o.width;
  f.height = o.height;
  std::string s = open_svg(o, "dumbbell-chart");
  if (rows.empty()) {
    return s + no_data(o);
  }
  double vmax = 0;
  for (const ChartShift& r : rows)
    for (double v : {r.from, r.to})
      if (std::isfinite(v)) vmax = std::max(vmax, v);
  const std::vector<double> xt = nice_ticks(0, vmax > 0 ? vmax : 1, 5);
  const double xhi = xt.back();
  auto sx = [&](double x) { return f.x0() + std::clamp(x, 0.0, xhi) / xhi * (f.x1() - f.x0()); };
  for (double t : xt)
    s += "<line class=\"grid\" x1=\"" + px(sx(t)) + "\" x2=\"" + px(sx(t)) + "\" y1=\"" + px(f.y1()) + "\" y2=\"" +
         px(f.y0()) + "\"/><text class=\"tick\" x=\"" + px(sx(t)) + "\" y=\"" + px(f.y0() + 16) +
         "\" text-anchor=\"middle\">" + format_number(t) + "</text>";
  for (size_t i = 0; i < rows.size(); ++i) {
    const ChartShift& r = rows[i];
    const double y = f.y1() + kRow * (static_cast<double>(i) + 0.5);
    const char* color = r.to >= r.from ? kColors[1] : kColors[0];
    const std::string label = shortened(r.label, 16);
    s += "<g class=\"shift\" data-from=\"" + format_number(r.from) + "\" data-to=\"" + format_number(r.to) + "\"><title>" +
         html_escape(r.label) + ": " + format_number(r.from) + " → " + format_number(r.to) + "</title>";
    s += "<text class=\"tick\" x=\"" + px(f.x0() - 8) + "\" y=\"" + px(y + 4) + "\" text-anchor=\"end\">" +
         html_escape(label) + "</text>";
    s += "<line x1=\"" + px(sx(r.from)) + "\" x2=\"" + px(sx(r.to)) + "\" y1=\"" + px(y) + "\" y2=\"" + px(y) +
         "\" stroke=\"" + color + "\" stroke-width=\"2\"/>";
    s += "<circle cx=\"" + px(sx(r.from)) + "\" cy=\"" + px(y) + "\" r=\"4\" fill=\"#8c959f\"/>";
    s += "<circle cx=\"" + px(sx(r.to)) + "\" cy=\"" + px(y) + "\" r=\"4.5\" fill=\"" + color + "\"/></g>";
  }
  s += "<line class=\"axis\" x1=\"" + px(f.x0()) + "\" x2=\"" + px(f.x1()) + "\" y1=\"" + px(f.y0()) + "\" y2=\"" +
       px(f.y0()) + "\"/>";
  s += axis_labels(f, o);
  return s + "</svg>";
}

}  // namespace accent
