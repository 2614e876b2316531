// cli/explain.cpp — `accent explain`: per-token attributions of a classifier's predictions (explain/attributions.h),
// the attention profile of a fine-tuned model against its base (explain/attention_profile.h) and the HTML page
// (explain/explain_report.h).
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/flag_checks.h"
#include "cli/verb.h"
#include "core/error.h"
#include "core/fs.h"
#include "data/dataset.h"
#include "data/numpy_random.h"
#include "explain/attention_profile.h"
#include "explain/attributions.h"
#include "explain/explain_report.h"
#include "io/hub.h"
#include "models/registry.h"
#include "serve/text_classification.h"

namespace accent::cli {
namespace {

using nlohmann::json;

struct ExplainCliOptions {
  std::string model;
  std::vector<std::string> texts;
  std::string input;
  std::string text_column = "text", label_column = "label";
  std::string html;
  bool json_output = false;
  int64_t ig_steps = 50;
  std::string target;
  int64_t max_length = 0;
  int64_t grid_text = 1;
  std::string base;
  std::string data;
  int64_t max_rows = 1000;
  int64_t min_count = 5;
  int64_t top = 15;
  int64_t batch_size = 16;
  int64_t seed = 42;
  bool offline = false;
};

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A label given by name (config label2id) or by id.
int64_t label_id(const ModelConfig& c, const std::string& name, bool must_exist) {
  if (const auto it = c.label2id.find(name); it != c.label2id.end()) return it->second;
  char* end = nullptr;
  const long long v = std::strtoll(name.c_str(), &end, 10);
  if (!name.empty() && end && *end == '\0' && v >= 0 && v < c.num_labels()) return v;
  ACCENT_CHECK(!must_exist, "--target ", name, ": not a label of the model (labels: ", [&] {
    std::string s;
    for (const auto& [id, n] : c.id2label) s += (s.empty() ? "" : ", ") + n;
    return s;
  }(), ")");
  return -1;
}

std::vector<std::string> texts_of(const ExplainCliOptions& o) {
  if (!o.texts.empty()) return o.texts;
  ACCENT_CHECK(!o.input.empty() || !o.data.empty(), "explain: give texts, --input FILE, or --base with --data FILE");
  if (o.input.empty()) return {};
  if (o.input.ends_with(".txt")) {
    std::ifstream in(o.input);
    ACCENT_CHECK(in.good(), o.input, ": cannot read the file");
    std::vector<std::string> out;
    for (std::string line; std::getline(in, line);) {
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (!line.empty()) out.push_back(line);
    }
    ACCENT_CHECK(!out.empty(), o.input, ": no texts (the file has no non-empty line)");
    return out;
  }
  ReadOptions r;
  r.text_column = o.text_column;
  r.label_column = "";
  std::vector<std::string> out;
  for (Example& e : read_dataset(o.input, r).rows) out.push_back(std::move(e.text));
  ACCENT_CHECK(!out.empty(), o.input, ": no texts (the file has no rows)");
  return out;
}

json explanation_json(const TextExplanation& x, const ModelConfig& c, const std::string& text) {
  const LabelScore predicted = predicted_label(x, c.id2label, c.problem_type);
  json j = {{"text", text}, {"label", predicted.label}, {"score", predicted.score},
            {"explained_label", label_name(c.id2label, x.target)}, {"logits", x.logits}, {"tokens", x.encoding.tokens}};
  json word_ids = json::array();
  for (int32_t w : x.encoding.word_ids) word_ids.push_back(w < 0 ? json(nullptr) : json(w));
  j["word_ids"] = word_ids;
  json methods = json::object();
  for (int m = 0; m < kAttributionMethods; ++m) {
    json words = json::array();
    for (size_t w = 0; w < x.words.size(); ++w) words.push_back({{"word", x.words[w].text}, {"score", x.word_scores[m][w]}});
    methods[attribution_method_name(static_cast<AttributionMethod>(m))] = {{"tokens", x.token_scores[m]}, {"words", words}};
  }
  j["attributions"] = methods;
  j["integrated_gradients"] = {{"steps", x.ig_steps}, {"sum", x.ig_sum}, {"f_input", x.f_input},
                               {"f_baseline", x.f_baseline}, {"completeness_error", x.ig_completeness_error}};
  return j;
}

json profile_json(const AttentionProfile& p) {
  auto words = [](const std::vector<WordShift>& v) {
    json a = json::array();
    for (const WordShift& w : v)
      a.push_back({{"word", w.word}, {"count", w.count}, {"base", w.mean_base}, {"fine_tuned", w.mean_tuned},
                   {"diff", w.mean_diff}, {"effect", w.effect}, {"attribution", w.attribution}});
    return a;
  };
  json labels = json::array();
  for (const LabelProfile& l : p.labels)
    labels.push_back({{"label", l.label.empty() ? json(nullptr) : json(l.label)}, {"rows", l.rows},
                      {"increased", words(l.increased)}, {"decreased", words(l.decreased)},
                      {"attributed", words(l.attributed)}});
  return {{"rows", p.rows}, {"layers", p.layers}, {"heads", p.heads}, {"labels", labels},
          {"head_js_divergence_bits", p.head_divergence}, {"layer_js_divergence_bits", p.layer_divergence},
          {"seconds", p.seconds}};
}

void print_explanation(const TextExplanation& x, const ModelConfig& c, size_t index) {
  const LabelScore predicted = predicted_label(x, c.id2label, c.problem_type);
  const std::string explained = label_name(c.id2label, x.target);
  std::printf("text %zu: %s (%.4f)%s\n", index + 1, predicted.label.c_str(), predicted.score,
              explained == predicted.label ? "" : (" — explaining " + explained).c_str());
  for (int m = 0; m < kAttributionMethods; ++m) {
    std::vector<size_t> order(x.words.size());
    for (size_t w = 0; w < order.size(); ++w) order[w] = w;
    const auto& s = x.word_scores[m];
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return std::fabs(s[a]) > std::fabs(s[b]); });
    std::printf("  %-21s", attribution_method_name(static_cast<AttributionMethod>(m)));
    for (size_t k = 0; k < order.size() && k < 6; ++k)
      std::printf("%s%s %+.3g", k ? " · " : "", x.words[order[k]].text.c_str(), s[order[k]]);
    std::printf("\n");
  }
  std::printf("  integrated gradients: %lld steps, completeness error %.2e (sum %.5g, f(x) - f(baseline) %.5g)\n",
              static_cast<long long>(x.ig_steps), x.ig_completeness_error, x.ig_sum, x.f_input - x.f_baseline);
}

void print_profile(const AttentionProfile& p) {
  std::printf("attention profile: %lld rows, %.1f s\n", static_cast<long long>(p.rows), p.seconds);
  for (const LabelProfile& l : p.labels) {
    std::printf("  %s (%lld rows), [CLS] attention per occurrence, base -> fine-tuned\n    more attention:", l.label.empty() ? "all labels" : ("label " + l.label).c_str(),
                static_cast<long long>(l.rows));
    auto list = [](const std::vector<WordShift>& words) {
      for (size_t k = 0; k < words.size() && k < 8; ++k)
        std::printf("%s %s (%.3f -> %.3f, d %+.2f, n %lld)", k ? "," : "", visible_word(words[k].word).c_str(),
                    words[k].mean_base, words[k].mean_tuned, words[k].effect, static_cast<long long>(words[k].count));
      std::printf("\n");
    };
    list(l.increased);
    std::printf("    less attention:");
    list(l.decreased);
  }
  std::vector<size_t> order(p.head_divergence.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p.head_divergence[a] > p.head_divergence[b]; });
  std::printf("  heads that changed most (JS divergence, bits):");
  for (size_t k = 0; k < order.size() && k < 5; ++k)
    std::printf("%s layer %lld head %lld %.3f", k ? "," : "", static_cast<long long>(order[k] / p.heads),
                static_cast<long long>(order[k] % p.heads), p.head_divergence[order[k]]);
  std::printf("\n");
}

TransformerClassifier& explainable(SequenceClassifier& model, const std::string& what) {
  auto* tc = dynamic_cast<TransformerClassifier*>(&model);
  ACCENT_CHECK(tc != nullptr, what, ": explain needs a full model; for a LoRA adapter, merge it first (accent merge)");
  tc->set_op_context(OpContext{Backend::Cpu, Precision::F32});  // fp32 on the CPU: attributions to the last bit
  return *tc;
}

int run_explain(const ExplainCliOptions& o) {
  ACCENT_CHECK(o.base.empty() == o.data.empty(), "explain: the attention profile needs both --base MODEL and --data FILE");
  std::vector<std::pair<std::string, double>> timings;
  auto t0 = Clock::now();
  TextClassificationPipeline pipeline = TextClassificationPipeline::from_pretrained(o.model, o.offline);
  ACCENT_CHECK(pipeline.model().task() == ModelTask::SequenceClassification, o.model,
               ": explain covers text classifiers; this is a ", task_name(pipeline.model().task()), " model");
  TransformerClassifier& model = explainable(pipeline.model(), o.model);
  const ModelConfig& config = *model.config();
  const int64_t max_tokens = o.max_length > 0 ? o.max_length : pipeline.max_input_tokens();
  Explainer explainer(model, pipeline.tokenizer(), max_tokens);
  timings.emplace_back("load model", seconds_since(t0));

  const std::vector<std::string> texts = texts_of(o);
  ExplainOptions options;
  options.ig_steps = o.ig_steps;
  if (!o.target.empty()) options.target = label_id(config, o.target, true);
  t0 = Clock::now();
  std::vector<TextExplanation> explanations;
  for (size_t i = 0; i < texts.size(); ++i) {
    options.keep_attention = !o.html.empty() && static_cast<int64_t>(i) == o.grid_text - 1;
    explanations.push_back(explainer.explain(texts[i], options));
  }
  if (!texts.empty()) timings.emplace_back("explain " + std::to_string(texts.size()) + " text(s)", seconds_since(t0));

  std::optional<AttentionProfile> profile;
  if (!o.base.empty()) {
    t0 = Clock::now();
    HubOptions hub = HubOptions::from_env();
    if (o.offline) hub.offline = true;
    const std::string base_dir = resolve_pretrained(o.base, default_pretrained_files(), hub);
    std::unique_ptr<SequenceClassifier> base_model;
    if (has_model_weights(base_dir)) {
      LoadOptions load;
      load.num_labels = config.num_labels();
      load.print_warnings = false;  // the base's head is new by design: only its attention is used
      load.ignore_mismatched_sizes = true;
      base_model = load_sequence_classifier(base_dir, load);
    } else {
      // A config-only base (a model trained from scratch): `accent train` initialised it from --seed, so the same
      // seed rebuilds the run's exact starting point.
      ModelConfig base_config = load_config(base_dir + "/config.json");
      base_config.id2label = config.id2label;
      base_config.label2id = config.label2id;
      base_config.problem_type = config.problem_type;
      std::cerr << "note: " << base_dir << " has no weights: the base is its random initialisation with --seed "
                << o.seed << " (as accent train --seed " << o.seed << " started from)\n";
      base_model = create_sequence_classifier(base_config, static_cast<uint64_t>(o.seed));
    }
    TransformerClassifier& base = explainable(*base_model, o.base);
    ACCENT_CHECK(pipeline.tokenizer().vocab_size() <= base.config()->vocab_size, o.base, ": vocab_size ",
                 base.config()->vocab_size, " is smaller than the fine-tuned model's tokenizer (",
                 pipeline.tokenizer().vocab_size(), " tokens): not the base of ", o.model);
    Explainer base_explainer(base, pipeline.tokenizer(), max_tokens);
    timings.emplace_back("load base model", seconds_since(t0));
    t0 = Clock::now();
    ReadOptions r;
    r.text_column = o.text_column;
    r.label_column = o.label_column;
    const Dataset data = read_dataset(o.data, r);
    // More rows than --max-rows: a sample, np.random.RandomState(seed).permutation(n)[:max_rows] in file order
    // (the first rows of a file are often one label).
    std::vector<int64_t> picked;
    const int64_t n = static_cast<int64_t>(data.rows.size());
    if (n > o.max_rows) {
      picked = NumpyRandomState(static_cast<uint32_t>(o.seed)).permutation(n);
      picked.resize(static_cast<size_t>(o.max_rows));
      std::sort(picked.begin(), picked.end());
    } else {
      for (int64_t i = 0; i < n; ++i) picked.push_back(i);
    }
    std::vector<std::string> rows, labels;
    std::vector<int64_t> ids;
    for (int64_t i : picked) {
      const Example& e = data.rows[static_cast<size_t>(i)];
      rows.push_back(e.text);
      labels.push_back(e.label.names.empty() ? "" : e.label.names.front());
      ids.push_back(label_id(config, labels.back(), false));
    }
    timings.emplace_back("read data", seconds_since(t0));
    ProfileOptions po;
    po.batch_size = o.batch_size;
    po.min_count = o.min_count;
    po.top = o.top;
    profile = attention_profile(explainer, base_explainer, rows, labels, ids, po);
    timings.emplace_back("attention profile (" + std::to_string(profile->rows) + " rows)", profile->seconds);
  }

  if (!o.html.empty()) {
    t0 = Clock::now();
    ExplainReportInput in;
    in.model = o.model;
    in.base_model = o.base;
    in.data_path = o.data;
    in.id2label = config.id2label;
    in.problem_type = config.problem_type;
    in.texts = explanations;
    in.grid_text = o.grid_text - 1;
    in.profile = profile ? &*profile : nullptr;
    in.timings = timings;
    write_file_atomic(o.html, explain_report_html(in));
    timings.emplace_back("write page", seconds_since(t0));
  }

  if (o.json_output) {
    json out = {{"model", o.model}};
    json methods = json::object();
    for (int m = 0; m < kAttributionMethods; ++m)
      methods[attribution_method_name(static_cast<AttributionMethod>(m))] =
          attribution_method_formula(static_cast<AttributionMethod>(m));
    out["methods"] = methods;
    out["texts"] = json::array();
    for (size_t i = 0; i < explanations.size(); ++i) out["texts"].push_back(explanation_json(explanations[i], config, texts[i]));
    if (profile) out["profile"] = profile_json(*profile);
    json t = json::object();
    for (const auto& [phase, s] : timings) t[phase] = s;
    out["timings_seconds"] = t;
    std::cout << out.dump() << "\n";
  } else {
    for (size_t i = 0; i < explanations.size(); ++i) print_explanation(explanations[i], config, i);
    if (profile) print_profile(*profile);
    if (!o.html.empty()) std::printf("wrote %s\n", o.html.c_str());
  }
  return 0;
}

VerbRegistration reg{"explain", "Per-token attributions of predictions (attention, rollout, gradient x input, integrated gradients), the attention profile against a base model, an HTML page",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<ExplainCliOptions>();
    app.add_option("--model,-m", o->model, "Fine-tuned model directory or hub id")->required();
    app.add_option("texts", o->texts, "Texts to explain (else --input)");
    app.add_option("--input,-i", o->input, "File of texts: .txt (one per line) or .csv/.tsv/.jsonl (--text-column)");
    app.add_option("--text-column", o->text_column)->capture_default_str();
    app.add_option("--label-column", o->label_column, "Label column of --data")->capture_default_str();
    app.add_option("--html", o->html, "Write the page (attributions, attention maps, profile) to this file");
    app.add_flag("--json", o->json_output, "Print one JSON document instead of text");
    app.add_option("--ig-steps", o->ig_steps, "Integrated gradients: trapezoid steps along the path")
        ->capture_default_str()->check(integer_in(1, 100000));
    app.add_option("--target", o->target, "Explain this label (name or id) instead of the predicted one");
    app.add_option("--max-length", o->max_length, "Truncate texts to this many tokens (default: the model's maximum)")
        ->check(integer_in(1, kMaxFlagInt));
    app.add_option("--grid-text", o->grid_text, "Which text (1-based) gets the layer x head attention grid on the page")
        ->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_option("--base", o->base, "Attention profile: the base model that was fine-tuned (directory or hub id)");
    app.add_option("--data", o->data, "Attention profile: labelled data (.csv/.tsv/.jsonl with --text-column/--label-column)");
    app.add_option("--max-rows", o->max_rows, "Attention profile: rows of --data used (a --seed sample when it has more)")->capture_default_str()
        ->check(integer_in(1, kMaxFlagInt));
    app.add_option("--min-count", o->min_count, "Attention profile: occurrences a word needs to be ranked")
        ->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_option("--top", o->top, "Attention profile: words listed per direction and label")->capture_default_str()
        ->check(integer_in(1, kMaxFlagInt));
    app.add_option("--batch-size,-b", o->batch_size, "Attention profile: rows per forward")->capture_default_str()
        ->check(integer_in(1, 4096));
    app.add_option("--seed", o->seed, "Attention profile: the row sample, and a --base without weights is "
                   "initialised as accent train --seed did (its starting point)")->capture_default_str();
    app.add_flag("--offline", o->offline, "Use only the Hugging Face cache");
    return [o] { return run_explain(*o); };
  }};

}  // namespace
}  // namespace accent::cli
