// Helpers for the non-BERT family tests: run the PyTorch twin tests/reference/family_twin.py and compare.
#pragma once
#include <cstdlib>
#include <string>

#include "models_twin_check.h"

namespace accent::testing {

inline const std::string kFamilyTwin = std::string(ACCENT_SOURCE_DIR) + "/tests/reference/family_twin.py";

inline void run_family_twin(const std::string& out, const std::string& family, const std::string& problem,
                            const std::string& act, bool with_bin = false, const std::string& extra_args = "") {
  const std::string cmd = "/usr/bin/python3 " + kFamilyTwin + " gen --out " + out + " --family " + family +
                          " --problem " + problem + " --act " + act + (with_bin ? " --bin" : "") + " " + extra_args;
  ASSERT_EQ(std::system(cmd.c_str()), 0) << cmd;
}

inline void check_family(const std::string& family, const std::string& problem, const std::string& act,
                         Backend backend = Backend::Cpu, const std::string& extra_args = "") {
  TempDir dir("family_twin_" + family + "_" + problem + "_" + act + "_" + backend_name(backend));
  run_family_twin(dir.str(), family, problem, act, false, extra_args);
  check_dir_against_expected(dir, backend, family + "/" + problem + "/" + act + "/" + backend_name(backend));
}

inline LoadOptions quiet_load() {
  LoadOptions o;
  o.print_warnings = false;
  return o;
}

}  // namespace accent::testing
