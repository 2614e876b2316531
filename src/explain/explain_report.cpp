#include "explain/explain_report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "train/html_page.h"
#include "train/svg_chart.h"

namespace accent {

std::string label_name(const std::map<int64_t, std::string>& id2label, int64_t id) {
  const auto it = id2label.find(id);
  return it != id2label.end() ? it->second : "LABEL_" + std::to_string(id);
}

LabelScore predicted_label(const TextExplanation& x, const std::map<int64_t, std::string>& id2label,
                           const std::optional<std::string>& problem_type) {
  const int64_t n = static_cast<int64_t>(x.logits.size());
  const FunctionToApply f = resolve_function_to_apply(FunctionToApply::Default, problem_type, n);
  return classify_logits(x.logits.data(), n, id2label, f, TopK{}).front();
}

std::string visible_word(const std::string& word) {
  if (!word.empty() && word.find_first_not_of(' ') == std::string::npos)
    return word.size() <= 8 ? [&] {
      std::string out;
      for (size_t i = 0; i < word.size(); ++i) out += "\u2423";
      return out;
    }() : "\u2423\u00d7" + std::to_string(word.size());
  std::string out;
  for (unsigned char c : word) {
    if (c == '\n') out += "\u23ce";
    else if (c == '\t') out += "\u21e5";
    else if (c < 0x20) {  // U+2400 + c: three UTF-8 bytes E2 90 (80 + c)
      out += "\xe2\x90";
      out += static_cast<char>(0x80 + c);
    } else if (c == 0x7f) out += "\u2421";
    else out += static_cast<char>(c);
  }
  return out;
}

namespace {

constexpr size_t kDumbbellWords = 8;  // per direction, in each label's chart

constexpr const char* kExplainStyle = R"css(
.words { line-height: 2.0; font-size: 15px; margin: 2px 0 8px 0; }
.words span.w { padding: 2px 3px; border-radius: 3px; margin-right: 2px; }
.method { font-size: 12px; color: #57606a; margin-top: 6px; }
.legend-box { display: inline-block; width: 12px; height: 12px; vertical-align: middle; border-radius: 2px; }
.grid { display: grid; gap: 4px; align-items: center; justify-content: start; }
#methods td, #methods th { text-align: left; }
.grid .lbl { font-size: 11px; color: #57606a; text-align: center; }
svg.map { background: #fff; border: 1px solid #eceef1; }
svg .tok { font-size: 10px; fill: #1b1f24; }
td.heat { text-align: center; min-width: 38px; }
)css";

std::string fmt(double v, const char* format = "%.3g") {
  char b[48];
  std::snprintf(b, sizeof b, format, v);
  return b;
}

// A word shaded by its score relative to the row's largest magnitude.
std::string shaded(const std::string& text, double score, double scale, bool signed_method) {
  const double a = scale > 0 ? std::min(1.0, std::fabs(score) / scale) : 0.0;
  const char* rgb = !signed_method ? "46,160,67" : score >= 0 ? "230,120,20" : "31,111,235";
  return "<span class=\"w\" style=\"background:rgba(" + std::string(rgb) + "," + fmt(0.85 * a, "%.3f") +
         ")\" title=\"" + html_escape(fmt(score, "%.4g")) + "\">" + html_escape(text) + "</span>";
}

std::string methods_section() {
  std::string s = "<section id=\"methods\"><h2>Methods</h2><table>" + html_row({"method", "what it computes"}, true);
  for (int m = 0; m < kAttributionMethods; ++m)
    s += html_row({html_escape(attribution_method_name(static_cast<AttributionMethod>(m))),
                   html_escape(attribution_method_formula(static_cast<AttributionMethod>(m)))});
  s += "</table><div class=\"note\"><span class=\"legend-box\" style=\"background:rgba(230,120,20,.8)\"></span> raises "
       "the explained class's logit · <span class=\"legend-box\" style=\"background:rgba(31,111,235,.8)\"></span> "
       "lowers it · <span class=\"legend-box\" style=\"background:rgba(46,160,67,.8)\"></span> attention received. "
       "Words sum their tokens' scores; hover a word for its value.</div></section>";
  return s;
}

std::string text_block(const ExplainReportInput& in, const TextExplanation& x, size_t index) {
  const LabelScore predicted = predicted_label(x, in.id2label, in.problem_type);
  std::string s = "<div class=\"text\" id=\"text-" + std::to_string(index + 1) + "\"><h3>Text " +
                  std::to_string(index + 1) + "</h3>";
  s += "<div class=\"cards\">" + html_card("prediction", predicted.label) + html_card("score", fmt(predicted.score, "%.4f")) +
       html_card("explained class", label_name(in.id2label, x.target)) +
       html_card("tokens", std::to_string(x.encoding.size())) + "</div>";
  for (int m = 0; m < kAttributionMethods; ++m) {
    const auto method = static_cast<AttributionMethod>(m);
    const bool signed_method = m >= static_cast<int>(AttributionMethod::GradientXInput);
    double scale = 0;
    for (float v : x.word_scores[m]) scale = std::max(scale, std::fabs(static_cast<double>(v)));
    s += "<div class=\"method\">" + html_escape(attribution_method_name(method)) + "</div><div class=\"words\" data-method=\"" +
         html_escape(attribution_method_name(method)) + "\">";
    for (size_t w = 0; w < x.words.size(); ++w) s += shaded(x.words[w].text, x.word_scores[m][w], scale, signed_method);
    s += "</div>";
  }
  s += "<div class=\"note\">integrated gradients: " + std::to_string(x.ig_steps) + " steps, Σ attributions " +
       fmt(x.ig_sum, "%.5g") + ", f(x) − f(baseline) = " + fmt(x.f_input - x.f_baseline, "%.5g") +
       ", completeness error " + fmt(x.ig_completeness_error, "%.2e") + "</div>";
  // Token-level values, for whoever wants the numbers.
  std::vector<std::string> header{"token"};
  for (int m = 0; m < kAttributionMethods; ++m)
    header.push_back(html_escape(attribution_method_name(static_cast<AttributionMethod>(m))));
  s += "<details><summary class=\"note\">token scores</summary><table>" + html_row(header, true);
  for (size_t t = 0; t < x.encoding.size(); ++t) {
    std::vector<std::string> cells{html_escape(x.encoding.tokens[t])};
    for (int m = 0; m < kAttributionMethods; ++m) cells.push_back(fmt(x.token_scores[m][t], "%.4g"));
    s += html_row(cells);
  }
  return s + "</table></details></div>";
}

// One attention map (T, T) as SVG cells of `cell` px; opacity relative to the map's largest entry. With
// `labels`, token names run along the top and the left, and every cell has a tooltip.
std::string attention_map_svg(const float* P, int64_t T, int64_t stride, double cell, const std::vector<std::string>* labels) {
  const double margin = labels ? 90.0 : 0.0, size = margin + cell * static_cast<double>(T);
  double peak = 0;
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) peak = std::max(peak, static_cast<double>(P[i * stride + j]));
  std::string s = "<svg class=\"map\" xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt(size, "%.0f") + "\" height=\"" +
                  fmt(size, "%.0f") + "\" viewBox=\"0 0 " + fmt(size, "%.1f") + " " + fmt(size, "%.1f") + "\">";
  if (labels) {
    for (int64_t t = 0; t < T; ++t) {
      const std::string name = html_escape((*labels)[t].substr(0, 12));
      const double c = margin + cell * (static_cast<double>(t) + 0.7);
      s += "<text class=\"tok\" x=\"" + fmt(margin - 4, "%.1f") + "\" y=\"" + fmt(c, "%.1f") + "\" text-anchor=\"end\">" +
           name + "</text>";
      s += "<text class=\"tok\" transform=\"translate(" + fmt(c, "%.1f") + "," + fmt(margin - 4, "%.1f") +
           ") rotate(-60)\">" + name + "</text>";
    }
  }
  for (int64_t i = 0; i < T; ++i)
    for (int64_t j = 0; j < T; ++j) {
      const double v = P[i * stride + j], a = peak > 0 ? v / peak : 0;
      if (a < 0.03) continue;
      s += "<rect x=\"" + fmt(margin + cell * static_cast<double>(j), "%.1f") + "\" y=\"" +
           fmt(margin + cell * static_cast<double>(i), "%.1f") + "\" width=\"" + fmt(cell, "%.2f") + "\" height=\"" +
           fmt(cell, "%.2f") + "\" fill=\"#1f6feb\" fill-opacity=\"" + fmt(a, "%.2f") + "\">";
      if (labels)
        s += "<title>" + html_escape((*labels)[i]) + " → " + html_escape((*labels)[j]) + ": " + fmt(v, "%.4f") + "</title>";
      s += "</rect>";
    }
  return s + "</svg>";
}

std::string grid_section(const ExplainReportInput& in) {
  if (in.grid_text < 0 || in.grid_text >= static_cast<int64_t>(in.texts.size())) return "";
  const TextExplanation& x = in.texts[in.grid_text];
  if (x.attention.empty()) return "";
  const int64_t T = static_cast<int64_t>(x.encoding.size()), L = x.layers, NH = x.heads;
  const int64_t shown = std::min<int64_t>(T, kGridTokens);
  std::string s = "<section id=\"attention-grid\"><h2>Attention maps — text " + std::to_string(in.grid_text + 1) + "</h2>";
  if (shown < T)
    s += "<div class=\"note\">the first " + std::to_string(shown) + " of " + std::to_string(T) + " tokens are shown</div>";
  // The last layer averaged over heads, labelled.
  std::vector<float> mean(static_cast<size_t>(T * T), 0.0f);
  for (int64_t h = 0; h < NH; ++h)
    for (int64_t i = 0; i < T * T; ++i) mean[i] += x.attention[((L - 1) * NH + h) * T * T + i] / static_cast<float>(NH);
  const std::vector<std::string> tokens(x.encoding.tokens.begin(), x.encoding.tokens.begin() + shown);
  s += "<h3>Last layer, mean over heads (row: the attending token, column: the token attended to)</h3>";
  s += attention_map_svg(mean.data(), shown, T, std::max(8.0, 420.0 / static_cast<double>(shown)), &tokens);
  s += "<h3>Every layer × head</h3><div class=\"grid\" style=\"grid-template-columns: 40px repeat(" + std::to_string(NH) +
       ", max-content)\"><div></div>";
  for (int64_t h = 0; h < NH; ++h) s += "<div class=\"lbl\">head " + std::to_string(h) + "</div>";
  const double cell = std::max(1.5, 84.0 / static_cast<double>(shown));
  for (int64_t l = 0; l < L; ++l) {
    s += "<div class=\"lbl\">layer " + std::to_string(l) + "</div>";
    for (int64_t h = 0; h < NH; ++h) s += "<div>" + attention_map_svg(&x.attention[(l * NH + h) * T * T], shown, T, cell, nullptr) + "</div>";
  }
  return s + "</div></section>";
}

std::string words_table(const std::vector<WordShift>& words, bool attribution) {
  if (words.empty()) return "<div class=\"note\">no word occurs often enough</div>";
  std::string s = "<table>";
  s += attribution ? html_row({"word", "n", "mean gradient × input"}, true)
                   : html_row({"word", "n", "base", "fine-tuned", "Δ", "effect d"}, true);
  for (const WordShift& w : words) {
    if (attribution)
      s += html_row({html_escape(visible_word(w.word)), std::to_string(w.count), fmt(w.attribution, "%.4g")});
    else
      s += html_row({html_escape(visible_word(w.word)), std::to_string(w.count), fmt(w.mean_base, "%.4f"), fmt(w.mean_tuned, "%.4f"),
                     fmt(w.mean_diff, "%+.4f"), fmt(w.effect, "%+.2f")});
  }
  return s + "</table>";
}

std::string profile_section(const ExplainReportInput& in) {
  if (!in.profile) return "";
  const AttentionProfile& p = *in.profile;
  std::string s = "<section id=\"profile\"><h2>Attention profile</h2><div class=\"note\">" + html_escape(in.model) +
                  " against its base " + html_escape(in.base_model) + " over " + std::to_string(p.rows) + " rows of " +
                  html_escape(in.data_path) +
                  ". Attention: the [CLS] attention a word receives, mean over layers and heads; Δ = fine-tuned − base "
                  "per occurrence, words ranked by mean Δ; effect d = mean Δ / sd Δ (paired: how consistent the shift is).</div>";
  for (const LabelProfile& lp : p.labels) {
    s += "<h3>" + (lp.label.empty() ? std::string("All labels") : "Label " + html_escape(lp.label)) + " (" +
         std::to_string(lp.rows) + " rows)</h3>";
    std::vector<ChartShift> shifts;
    for (const std::vector<WordShift>* list : {&lp.increased, &lp.decreased})
      for (size_t k = 0; k < list->size() && k < kDumbbellWords; ++k)
        shifts.push_back({visible_word((*list)[k].word), (*list)[k].mean_base, (*list)[k].mean_tuned});
    ChartOptions chart;
    chart.title = "[CLS] attention per occurrence: base (grey) → fine-tuned";
    chart.x_label = "attention mass";
    chart.width = 640;
    s += svg_dumbbell_chart(shifts, chart);
    s += "<div class=\"charts\"><div><div class=\"method\">more attention after "
         "fine-tuning</div>" + words_table(lp.increased, false) + "</div><div><div class=\"method\">less attention after "
         "fine-tuning</div>" + words_table(lp.decreased, false) + "</div><div><div class=\"method\">most attributed "
         "(toward this label)</div>" + words_table(lp.attributed, true) + "</div></div>";
  }
  // Per-head divergence heat map.
  double peak = 0;
  for (double d : p.head_divergence) peak = std::max(peak, d);
  s += "<h3>Which heads changed: Jensen–Shannon divergence between base and fine-tuned attention (bits)</h3><table>";
  std::vector<std::string> header{"layer"};
  for (int64_t h = 0; h < p.heads; ++h) header.push_back("h" + std::to_string(h));
  s += html_row(header, true);
  for (int64_t l = 0; l < p.layers; ++l) {
    s += "<tr><td class=\"name\">" + std::to_string(l) + "</td>";
    for (int64_t h = 0; h < p.heads; ++h) {
      const double d = p.head_divergence[l * p.heads + h], a = peak > 0 ? d / peak : 0;
      s += "<td class=\"heat\" style=\"background:rgba(207,34,46," + fmt(0.8 * a, "%.3f") + ")\">" + fmt(d, "%.3f") + "</td>";
    }
    s += "</tr>";
  }
  s += "</table>";
  std::vector<ChartBar> bars;
  for (int64_t l = 0; l < p.layers; ++l) bars.push_back({"layer " + std::to_string(l), p.layer_divergence[l]});
  ChartOptions o;
  o.title = "mean divergence per layer";
  o.y_label = "bits";
  s += svg_bar_chart(bars, o);
  return s + "</section>";
}

}  // namespace

std::string explain_report_html(const ExplainReportInput& in) {
  std::string s = html_page_begin("accent explain — " + in.model,
                                  in.model + (in.base_model.empty() ? "" : " · base " + in.base_model), kExplainStyle);
  s += methods_section();
  if (!in.texts.empty()) {
    s += "<section id=\"texts\"><h2>Texts</h2>";
    for (size_t i = 0; i < in.texts.size(); ++i) s += text_block(in, in.texts[i], i);
    s += "</section>";
  }
  s += grid_section(in);
  s += profile_section(in);
  if (!in.timings.empty()) {
    s += "<section id=\"timings\"><h2>Timings</h2><table>" + html_row({"phase", "seconds"}, true);
    for (const auto& [phase, seconds] : in.timings) s += html_row({html_escape(phase), fmt(seconds, "%.2f")});
    s += "</table></section>";
  }
  return s + html_page_end();
}

}  // namespace accent
