// A tiny BERT fine-tuned for 4 steps on SST-2 rows, trained once per test binary, for the `accent serve` tests;
// and SST-2 dev sentences to send it.
#pragma once
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cli_test_data.h"
#include "test_util.h"

namespace accent::testing {

class ServeModel : public ::testing::Test {
 public:
  static void SetUpTestSuite() {
    tmp_ = new TempDir("serve_model");
    write_tiny_bert(tmp_->path / "base");
    write_sst2_csv(tmp_->path / "train.csv", 64);
    const CmdResult r = run_command(std::string(ACCENT_CLI_PATH) + " train --model " + tmp_->str("base") +
                                    " --train-file " + tmp_->str("train.csv") + " --output-dir " + tmp_->str("model") +
                                    " --max-steps 4 --max-length 32 --per-device-train-batch-size 8 --progress none" +
                                    " --seed 3 --precision fp32");
    ASSERT_EQ(r.rc, 0) << r.out;
  }
  static void TearDownTestSuite() {
    delete tmp_;
    tmp_ = nullptr;
  }

 protected:
  static std::string model() { return tmp_->str("model"); }
  static std::string file(const std::string& name) { return tmp_->str(name); }
  // The first `n` sentences of SST-2 dev (tests/data), skipping `skip`.
  static std::vector<std::string> sentences(size_t n, size_t skip = 0) {
    std::ifstream in(std::string(ACCENT_TEST_DATA_DIR) + "/sentiment/sst2/dev.tsv");
    std::string line;
    std::getline(in, line);
    std::vector<std::string> out;
    for (size_t i = 0; out.size() < n && std::getline(in, line); ++i)
      if (i >= skip) out.push_back(line.substr(0, line.rfind('\t')));
    return out;
  }
  static TempDir* tmp_;
};

inline TempDir* ServeModel::tmp_ = nullptr;

}  // namespace accent::testing
