// tests/unit/text_oracle_util.h — shared helpers of the tokenizer tests: the binary record/result files of
// tests/oracle/tokenizer_oracle.js, running node, comparing accent encodings with the oracle's.
#pragma once
#include <gtest/gtest.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "text/tokenizer.h"
#include "test_util.h"

namespace accent::testing {

struct Record {
  std::string a;
  std::optional<std::string> b;
};

inline void write_records(const std::string& path, const std::vector<Record>& records) {
  std::ofstream os(path, std::ios::binary);
  auto u32 = [&](uint32_t v) { os.write(reinterpret_cast<const char*>(&v), 4); };
  for (const Record& r : records) {
    u32(static_cast<uint32_t>(r.a.size()));
    u32(r.b ? static_cast<uint32_t>(r.b->size()) : 0xFFFFFFFFu);
    os.write(r.a.data(), static_cast<std::streamsize>(r.a.size()));
    if (r.b) os.write(r.b->data(), static_cast<std::streamsize>(r.b->size()));
  }
  if (!os) throw std::runtime_error("cannot write " + path);
}

inline std::string slurp(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  if (!is) throw std::runtime_error("cannot read " + path);
  std::ostringstream ss;
  ss << is.rdbuf();
  return ss.str();
}

inline std::vector<Record> read_records(const std::string& path) {
  const std::string buf = slurp(path);
  std::vector<Record> out;
  size_t o = 0;
  auto u32 = [&]() {
    uint32_t v;
    std::memcpy(&v, buf.data() + o, 4);
    o += 4;
    return v;
  };
  while (o < buf.size()) {
    const uint32_t la = u32(), lb = u32();
    Record r;
    r.a = buf.substr(o, la);
    o += la;
    if (lb != 0xFFFFFFFFu) {
      r.b = buf.substr(o, lb);
      o += lb;
    }
    out.push_back(std::move(r));
  }
  return out;
}

// One oracle result; nullopt when the oracle raised an error for this record.
struct OracleEncoding {
  std::vector<int32_t> ids, type_ids, attention_mask, special_tokens_mask;
  std::vector<int32_t> word_ids;  // -1 = None (special and padding tokens)
  // Only for tasks with offsets:
  std::vector<std::pair<int32_t, int32_t>> offsets;
  std::vector<int32_t> sequence_ids;  // -1 = None
  std::vector<OracleEncoding> overflowing;
};

// Reads one encoding at buf[o] (n >= 0 already read).
inline OracleEncoding read_oracle_encoding(const std::string& buf, size_t& o, int32_t n, bool with_offsets) {
  auto i32 = [&]() {
    int32_t v;
    std::memcpy(&v, buf.data() + o, 4);
    o += 4;
    return v;
  };
  OracleEncoding e;
  e.ids.resize(n);
  for (auto& id : e.ids) id = i32();
  for (auto* v : {&e.type_ids, &e.attention_mask, &e.special_tokens_mask}) {
    v->resize(n);
    for (int32_t k = 0; k < n; ++k) (*v)[k] = static_cast<unsigned char>(buf[o++]);
  }
  e.word_ids.resize(n);
  for (auto& w : e.word_ids) w = i32();
  if (!with_offsets) return e;
  e.offsets.resize(n);
  for (auto& [b, end] : e.offsets) b = i32(), end = i32();
  e.sequence_ids.resize(n);
  for (auto& s : e.sequence_ids) s = i32();
  const int32_t windows = i32();
  for (int32_t k = 0; k < windows; ++k) {
    const int32_t m = i32();
    e.overflowing.push_back(read_oracle_encoding(buf, o, m, true));
  }
  return e;
}

inline std::vector<std::optional<OracleEncoding>> read_results(const std::string& path, bool with_offsets = false) {
  const std::string buf = slurp(path);
  std::vector<std::optional<OracleEncoding>> out;
  size_t o = 0;
  while (o < buf.size()) {
    int32_t n;
    std::memcpy(&n, buf.data() + o, 4);
    o += 4;
    if (n < 0) out.emplace_back(std::nullopt);
    else out.emplace_back(read_oracle_encoding(buf, o, n, with_offsets));
  }
  return out;
}

// Trains the SentencePiece Unigram models of tests/reference/spm_tokenizer_json.py into `out` (xlm-roberta/,
// deberta-v3/, byte-fallback/: tokenizer.json + tokenizer_config.json); throws when the script fails.
inline void make_sentencepiece_tokenizers(const std::string& out) {
  const std::string cmd = "/usr/bin/python3 '" + std::string(ACCENT_SOURCE_DIR) +
                          "/tests/reference/spm_tokenizer_json.py' --data '" + ACCENT_TEST_DATA_DIR + "' --out '" +
                          out + "' > /dev/null";
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error(cmd + " failed (scripts/setup.sh --tests installs python3-sentencepiece)");
}

// Runs `node tests/oracle/tokenizer_oracle.js ARGS` and returns its stdout; fails the test on a non-zero exit.
inline std::string run_oracle(const std::string& args) {
  const std::string out_file = (std::filesystem::temp_directory_path() /
                                ("accent_oracle_" + std::to_string(::getpid()) + ".out")).string();
  const std::string cmd = std::string("cd '") + ACCENT_NODE_DIR + "' && node tokenizer_oracle.js " + args + " > '" +
                          out_file + "'";
  const int rc = std::system(cmd.c_str());
  std::string out;
  try {
    out = slurp(out_file);
  } catch (...) {
  }
  std::filesystem::remove(out_file);
  if (rc != 0) throw std::runtime_error("oracle failed (rc " + std::to_string(rc) + "): " + cmd);
  return out;
}

// A fresh temporary directory removed at scope exit.
inline std::string printable(const std::string& s, size_t max = 160) {
  std::string out;
  for (unsigned char c : s.substr(0, max)) {
    if (c < 0x20 || c == 0x7F) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02X", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  if (s.size() > max) out += "...";
  return out;
}

template <typename T>
std::string join(const std::vector<T>& v, size_t max = 40) {
  std::string s = "[";
  for (size_t i = 0; i < v.size() && i < max; ++i) s += (i ? "," : "") + std::to_string(v[i]);
  if (v.size() > max) s += ",...";
  return s + "]";
}

inline std::string join_offsets(const std::vector<std::pair<int32_t, int32_t>>& v, size_t max = 24) {
  std::string s = "[";
  for (size_t i = 0; i < v.size() && i < max; ++i)
    s += (i ? "," : "") + std::string("(") + std::to_string(v[i].first) + "," + std::to_string(v[i].second) + ")";
  if (v.size() > max) s += ",...";
  return s + "]";
}

// What differs between an accent encoding and the oracle's ("" when equal). With offsets: also offsets,
// sequence ids and, recursively, the overflowing windows.
inline std::string encoding_difference(const Encoding& mine, const OracleEncoding& theirs, bool with_offsets) {
  if (mine.ids != theirs.ids) return "ids differ";
  if (mine.type_ids != theirs.type_ids) return "type_ids differ";
  if (mine.attention_mask != theirs.attention_mask) return "attention_mask differs";
  if (mine.special_tokens_mask != theirs.special_tokens_mask) return "special_tokens_mask differs";
  if (mine.word_ids != theirs.word_ids) return "word_ids differ";
  if (!with_offsets) return "";
  if (mine.offsets != theirs.offsets) return "offsets differ";
  if (mine.sequence_ids != theirs.sequence_ids) return "sequence_ids differ";
  if (mine.overflowing.size() != theirs.overflowing.size())
    return "overflowing windows: accent " + std::to_string(mine.overflowing.size()) + ", oracle " +
           std::to_string(theirs.overflowing.size());
  for (size_t k = 0; k < mine.overflowing.size(); ++k) {
    const std::string d = encoding_difference(mine.overflowing[k], theirs.overflowing[k], true);
    if (!d.empty()) return "overflowing window " + std::to_string(k) + ": " + d;
  }
  return "";
}

// Counts an encoding's windows, recursively.
inline size_t window_count(const Encoding& e) {
  size_t n = e.overflowing.size();
  for (const Encoding& w : e.overflowing) n += window_count(w);
  return n;
}

// Compares accent encodings (nullopt = accent threw) with the oracle's; records mismatches (first few shown).
struct Comparison {
  size_t records = 0, pairs = 0, tokens = 0, errors_both = 0, mismatches = 0;
  size_t with_offsets = 0, windows = 0;  // encodings whose offsets/sequence ids were compared; windows compared
  std::vector<std::string> first_mismatches;

  void compare(const Record& r, const std::optional<Encoding>& mine, const std::optional<OracleEncoding>& theirs,
               const std::string& label, bool offsets = false) {
    ++records;
    if (r.b) ++pairs;
    std::string problem;
    if (!mine && !theirs) {
      ++errors_both;
      return;
    }
    if (!mine || !theirs) {
      problem = !mine ? "accent raised an error, the oracle did not" : "the oracle raised an error, accent did not";
    } else {
      tokens += theirs->ids.size();
      problem = encoding_difference(*mine, *theirs, offsets);
      if (offsets) ++with_offsets, windows += window_count(*mine);
    }
    if (problem.empty()) return;
    ++mismatches;
    // ACCENT_PARITY_DUMP=DIR keeps the texts of mismatching records (mismatch_N_a.txt, _b.txt) for debugging.
    if (const char* dir = std::getenv("ACCENT_PARITY_DUMP")) {
      const std::string base = std::string(dir) + "/mismatch_" + std::to_string(mismatches);
      std::ofstream(base + "_a.txt", std::ios::binary) << r.a;
      if (r.b) std::ofstream(base + "_b.txt", std::ios::binary) << *r.b;
    }
    if (first_mismatches.size() < 8) {
      std::string m = label + ": " + problem + "\n    text a: '" + printable(r.a) + "'";
      if (r.b) m += "\n    text b: '" + printable(*r.b) + "'";
      if (mine) m += "\n    accent: " + join(mine->ids) + " types " + join(mine->type_ids);
      if (theirs) m += "\n    oracle: " + join(theirs->ids) + " types " + join(theirs->type_ids);
      if (mine && theirs && problem == "word_ids differ")
        m += "\n    word ids accent " + join(mine->word_ids) + "\n    word ids oracle " + join(theirs->word_ids);
      if (mine && theirs && offsets) {
        m += "\n    offsets accent " + join_offsets(mine->offsets) + "\n    offsets oracle " + join_offsets(theirs->offsets);
        m += "\n    sequence ids accent " + join(mine->sequence_ids) + "\n    sequence ids oracle " + join(theirs->sequence_ids);
      }
      first_mismatches.push_back(m);
    }
  }
};

}  // namespace accent::testing
