#include "train/html_page.h"

#include "train/svg_chart.h"

namespace accent {

namespace {

// The base stylesheet (page frame, sections, cards, tables, charts); pages append their own rules.
constexpr const char* kPageStyle = R"css(
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; margin: 0; color: #1b1f24;
       background: #f6f7f9; }
header { background: #1b1f24; color: #fff; padding: 18px 28px; }
header h1 { margin: 0 0 4px 0; font-size: 22px; }
header .sub { color: #c7ccd3; font-size: 13px; word-break: break-all; }
main { padding: 8px 28px 40px 28px; max-width: 1240px; }
section { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; padding: 12px 18px; margin: 16px 0; }
h2 { font-size: 17px; margin: 4px 0 10px 0; }
h3 { font-size: 14px; margin: 12px 0 6px 0; color: #444c56; }
.cards { display: flex; flex-wrap: wrap; gap: 10px; }
.card { border: 1px solid #dde1e6; border-radius: 6px; padding: 8px 14px; min-width: 120px; background: #fbfcfd; }
.card .k { font-size: 12px; color: #57606a; } .card .v { font-size: 20px; font-weight: 600; }
.charts { display: flex; flex-wrap: wrap; gap: 12px; }
table { border-collapse: collapse; font-size: 13px; margin: 4px 0 8px 0; }
th, td { border: 1px solid #dde1e6; padding: 4px 8px; text-align: right; }
th { background: #f0f2f5; } td.name, th.name { text-align: left; }
table.confusion td { min-width: 44px; text-align: center; }
.note { color: #57606a; font-size: 12px; }
svg.chart { background: #fff; border: 1px solid #eceef1; border-radius: 4px; }
svg .chart-title { font-size: 13px; font-weight: 600; fill: #1b1f24; }
svg .tick, svg .legend, svg .note, svg .empty { font-size: 11px; fill: #444c56; }
svg .axis-label { font-size: 11px; fill: #57606a; }
svg .grid { stroke: #eceef1; stroke-width: 1; } svg .axis { stroke: #8c959f; stroke-width: 1; }
)css";

}  // namespace

std::string html_card(const std::string& key, const std::string& value) {
  return "<div class=\"card\"><div class=\"k\">" + html_escape(key) + "</div><div class=\"v\">" + html_escape(value) +
         "</div></div>";
}

std::string html_row(const std::vector<std::string>& cells, bool header) {
  std::string r = "<tr>";
  for (size_t i = 0; i < cells.size(); ++i) {
    const char* tag = header ? "th" : "td";
    r += std::string("<") + tag + (i == 0 ? " class=\"name\"" : "") + ">" + cells[i] + "</" + tag + ">";
  }
  return r + "</tr>";
}

std::string html_page_begin(const std::string& title, const std::string& subtitle, const std::string& extra_style) {
  // The <h1> is the title up to " — " (the rest names the model, shown in the subtitle).
  const std::string heading = title.substr(0, title.find(" — "));
  return "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
         "content=\"width=device-width, initial-scale=1\"><title>" +
         html_escape(title) + "</title><style>" + kPageStyle + extra_style + "</style></head><body><header><h1>" +
         html_escape(heading) + "</h1><div class=\"sub\">" + html_escape(subtitle) + "</div></header><main>";
}

std::string html_page_end() { return "</main></body></html>\n"; }

}  // namespace accent
