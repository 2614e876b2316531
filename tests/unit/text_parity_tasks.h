// tests/unit/text_parity_tasks.h — one oracle comparison task (a record set encoded with some EncodeOptions):
// its tokenizer_oracle.js job entry, and accent's encodings of the same records. Shared by the parity tests.
#pragma once
#include <chrono>
#include <fstream>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "text/tokenizer.h"
#include "text_oracle_util.h"

namespace accent::testing {

using accent::Encoding;
using accent::EncodeOptions;

struct Task {
  std::string name;
  const std::vector<Record>* records;
  EncodeOptions options;
  size_t batch = 1;  // Longest padding groups
};

inline const char* strategy_json(TruncationStrategy s) {
  switch (s) {
    case TruncationStrategy::LongestFirst: return "LongestFirst";
    case TruncationStrategy::OnlyFirst: return "OnlyFirst";
    case TruncationStrategy::OnlySecond: return "OnlySecond";
    default: return "";
  }
}

inline nlohmann::json task_json(const Task& t, const nlohmann::json& tokenizer_spec, const Tokenizer& tok, const std::string& input,
               const std::string& output) {
  nlohmann::json j;
  j["tokenizer"] = tokenizer_spec;
  j["input"] = input;
  j["output"] = output;
  j["add_special_tokens"] = t.options.add_special_tokens;
  j["offsets"] = t.options.return_offsets_mapping;
  j["batch"] = t.batch;
  j["truncation"] = nullptr;
  j["padding"] = nullptr;
  if (t.options.truncation != TruncationStrategy::None)
    j["truncation"] = {{"max_length", *t.options.max_length},
                       {"strategy", strategy_json(t.options.truncation)},
                       {"direction", t.options.truncation_side == Side::Left ? "Left" : "Right"},
                       {"stride", t.options.stride}};
  if (t.options.padding != PaddingStrategy::None) {
    nlohmann::json p;
    p["max_length"] = t.options.padding == PaddingStrategy::MaxLength ? nlohmann::json(*t.options.max_length) : nlohmann::json(nullptr);
    p["direction"] = t.options.padding_side == Side::Left ? "Left" : "Right";
    p["pad_to_multiple_of"] = t.options.pad_to_multiple_of ? nlohmann::json(*t.options.pad_to_multiple_of) : nlohmann::json(nullptr);
    p["pad_id"] = *tok.pad_token_id();
    p["pad_token"] = *tok.special_token("pad_token");
    j["padding"] = p;
  }
  return j;
}

inline std::vector<std::optional<Encoding>> run_accent(const Tokenizer& tok, const Task& t) {
  std::vector<std::optional<Encoding>> out;
  out.reserve(t.records->size());
  const auto& recs = *t.records;
  for (size_t s = 0; s < recs.size(); s += t.batch) {
    std::vector<std::pair<std::string, std::optional<std::string>>> batch;
    for (size_t k = s; k < recs.size() && k < s + t.batch; ++k) batch.emplace_back(recs[k].a, recs[k].b);
    if (t.batch == 1) {
      try {
        out.emplace_back(tok.encode(batch[0].first, batch[0].second ? std::optional<std::string_view>(*batch[0].second)
                                                                     : std::nullopt, t.options));
      } catch (const std::exception&) {
        out.emplace_back(std::nullopt);
      }
      continue;
    }
    // Batch padding: records whose encoding fails are excluded from the batch on both sides.
    std::vector<size_t> ok;
    std::vector<std::pair<std::string, std::optional<std::string>>> good;
    std::vector<std::optional<Encoding>> group(batch.size());
    for (size_t k = 0; k < batch.size(); ++k) {
      try {
        EncodeOptions probe = t.options;
        probe.padding = PaddingStrategy::None;
        tok.encode(batch[k].first, batch[k].second ? std::optional<std::string_view>(*batch[k].second) : std::nullopt, probe);
        ok.push_back(k);
        good.push_back(batch[k]);
      } catch (const std::exception&) {
      }
    }
    std::vector<Encoding> encoded = tok.encode_batch(good, t.options);
    for (size_t k = 0; k < ok.size(); ++k) group[ok[k]] = std::move(encoded[k]);
    for (auto& g : group) out.push_back(std::move(g));
  }
  return out;
}


// Encodes every task's records with the oracle (one node process for all tasks) and with accent, compares them,
// and prints one summary line for `name` (plus the tasks that mismatched). `left_out` is only reported.
inline Comparison compare_with_oracle(const Tokenizer& tok, const nlohmann::json& oracle_spec, const std::string& name,
                                      const std::vector<Task>& tasks, const TempDir& tmp, size_t left_out = 0) {
  nlohmann::json job;
  job["tasks"] = nlohmann::json::array();
  std::map<const std::vector<Record>*, std::string> inputs;
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (!inputs.count(tasks[i].records)) {
      const std::string f = tmp.file(name + "_in_" + std::to_string(inputs.size()) + ".bin");
      write_records(f, *tasks[i].records);
      inputs[tasks[i].records] = f;
    }
    job["tasks"].push_back(task_json(tasks[i], oracle_spec, tok, inputs[tasks[i].records],
                                     tmp.file(name + "_out_" + std::to_string(i) + ".bin")));
  }
  const std::string job_file = tmp.file(name + "_job.json");
  { std::ofstream(job_file) << job.dump(); }
  const auto o0 = std::chrono::steady_clock::now();
  run_oracle("encode '" + job_file + "'");
  const double oracle_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - o0).count();

  Comparison total;
  double accent_s = 0;
  for (size_t i = 0; i < tasks.size(); ++i) {
    const bool offsets = tasks[i].options.return_offsets_mapping;
    const auto theirs = read_results(job["tasks"][i]["output"].get<std::string>(), offsets);
    const auto a0 = std::chrono::steady_clock::now();
    const auto mine = run_accent(tok, tasks[i]);
    accent_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - a0).count();
    EXPECT_EQ(theirs.size(), tasks[i].records->size()) << name << " " << tasks[i].name;
    if (theirs.size() != tasks[i].records->size()) continue;
    Comparison c;
    for (size_t k = 0; k < mine.size(); ++k)
      c.compare((*tasks[i].records)[k], mine[k], theirs[k], name + " / " + tasks[i].name, offsets);
    total.records += c.records, total.pairs += c.pairs, total.tokens += c.tokens, total.errors_both += c.errors_both;
    total.with_offsets += c.with_offsets, total.windows += c.windows;
    total.mismatches += c.mismatches;
    for (auto& m : c.first_mismatches)
      if (total.first_mismatches.size() < 12) total.first_mismatches.push_back(m);
    if (c.mismatches)
      std::cout << "  MISMATCH " << name << " / " << tasks[i].name << ": " << c.mismatches << " of " << c.records << "\n";
  }
  std::cout << "[" << name << "] tasks " << tasks.size() << ", encodings compared " << total.records
            << " (single lines " << total.records - total.pairs << ", pairs " << total.pairs << "), tokens "
            << total.tokens << ", with offsets and sequence ids " << total.with_offsets << ", overflowing windows "
            << total.windows << " (records left out: stride too long " << left_out << "), both raised "
            << total.errors_both << ", mismatches " << total.mismatches << "  [oracle " << oracle_s << " s, accent "
            << accent_s << " s]\n";
  return total;
}

}  // namespace accent::testing
