// cli/data.cpp — `accent data`: what a training file holds before you train on it: rows read and kept, label
// counts, and token-length percentiles under a model's tokenizer (how much --max-length would cut).
#include <algorithm>
#include <cmath>
#include <iostream>
#include <map>

#include "cli/data_options.h"
#include "cli/flag_checks.h"
#include "cli/verb.h"
#include "io/tokenizer_location.h"
#include "text/tokenizer.h"

namespace accent::cli {
namespace {

struct DataOptions {
  std::string train_file;
  ReadOptions read;
  std::string model;
  int64_t max_length = 128;
  bool json = false;
};

// numpy.percentile's default (linear interpolation between closest ranks) on sorted values.
double percentile(const std::vector<int64_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  const double pos = q / 100.0 * static_cast<double>(sorted.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos)), hi = std::min(lo + 1, sorted.size() - 1);
  return static_cast<double>(sorted[lo]) + (pos - static_cast<double>(lo)) * static_cast<double>(sorted[hi] - sorted[lo]);
}

int run_data(const DataOptions& o) {
  Dataset d = read_dataset(o.train_file, o.read);
  nlohmann::ordered_json out;
  out["file"] = o.train_file;
  out["format"] = d.format;
  out["rows_read"] = d.summary.rows_read;
  out["rows_kept"] = d.summary.rows_kept;
  out["summary"] = d.summary.to_string();
  out["label_kind"] = label_kind_name(d.label_kind);
  std::map<std::string, int64_t> counts;
  for (const auto& ex : d.rows)
    for (const auto& n : ex.label.names) counts[n]++;
  if (d.label_kind != LabelKind::Float) out["label_counts"] = counts;
  if (!o.model.empty()) {
    Tokenizer tok = Tokenizer::from_pretrained(tokenizer_location(o.model));
    std::vector<int64_t> lengths(d.rows.size());
#pragma omp parallel for schedule(dynamic, 64)
    for (size_t i = 0; i < d.rows.size(); ++i) {
      std::optional<std::string_view> pair;
      if (d.rows[i].text_pair) pair = *d.rows[i].text_pair;
      lengths[i] = static_cast<int64_t>(tok.encode(d.rows[i].text, pair).ids.size());
    }
    std::sort(lengths.begin(), lengths.end());
    nlohmann::ordered_json pct;
    for (double q : {50.0, 90.0, 95.0, 99.0, 100.0}) pct["p" + std::to_string(static_cast<int>(q))] = percentile(lengths, q);
    out["token_length_percentiles"] = pct;
    const auto over = lengths.end() - std::upper_bound(lengths.begin(), lengths.end(), o.max_length);
    out["longer_than_max_length"] = {{"max_length", o.max_length}, {"rows", over}};
  }
  if (o.json) {
    std::cout << out.dump() << "\n";
    return 0;
  }
  std::cout << out["summary"].get<std::string>() << "\nlabels (" << out["label_kind"].get<std::string>() << "):\n";
  for (const auto& [name, n] : counts) std::cout << "  " << name << "\t" << n << "\n";
  if (out.contains("token_length_percentiles")) {
    std::cout << "token lengths:";
    for (auto& [k, v] : out["token_length_percentiles"].items()) std::cout << " " << k << "=" << v.get<double>();
    std::cout << "\nlonger than " << o.max_length << " tokens: " << out["longer_than_max_length"]["rows"] << " rows\n";
  }
  return 0;
}

VerbRegistration reg{"data", "Describe a labelled file: rows, label counts, token-length percentiles",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<DataOptions>();
    app.add_option("--train-file,-t,file", o->train_file, "Data file (.csv, .tsv, .txt, .jsonl)")->required()->check(CLI::ExistingFile);
    add_read_options(app, o->read);
    app.add_option("--model,-m", o->model, "Tokenizer (model directory, tokenizer.json or hub id) for token lengths");
    app.add_option("--max-length", o->max_length, "Count rows longer than this")->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_flag("--json", o->json, "One JSON object on stdout");
    return [o] { return run_data(*o); };
  }};

}  // namespace
}  // namespace accent::cli
