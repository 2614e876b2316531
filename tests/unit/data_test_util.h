// tests/unit/data_test_util.h — helpers shared by the data_* tests: temp dirs and running the Python oracles.
#pragma once
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>
#include <unistd.h>

#include "core/fs.h"
#include "test_util.h"

namespace accent::testing {

// A fresh directory under the system temp dir, removed when the object dies.
// Runs /usr/bin/python3 (Debian: numpy, pandas, scikit-learn) on tests/reference/<script> with arguments;
// fails the test when it exits non-zero.
inline void run_python_oracle(const std::string& script, const std::string& args) {
  const std::string cmd =
      "/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) + "/tests/reference/" + script + " " + args;
  const int rc = std::system(cmd.c_str());
  ASSERT_EQ(rc, 0) << "oracle failed: " << cmd;
}

}  // namespace accent::testing
