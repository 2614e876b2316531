// cli/flag_checks.h — range checks of numeric flags, with messages that give the accepted range.
//
// Why: `--top-k 0`, `--max-length -1`, `--batch-size 0`, `--threads -1`, `--validation-split -0.5`,
// `--freeze-layers -1` were accepted and silently ignored or misused. CLI11 reports a failed check as
// "<flag>: <message>" and exits non-zero before the verb runs.
#pragma once
#include <CLI/CLI.hpp>
#include <cstdint>
#include <string>

namespace accent::cli {

// An integer in [lo, hi] (written in decimal, nothing else: "1.5" is refused, not read as 1).
inline CLI::Validator integer_in(int64_t lo, int64_t hi) {
  return CLI::Validator(
      [lo, hi](std::string& s) -> std::string {
        size_t used = 0;
        int64_t v = 0;
        try {
          v = std::stoll(s, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != s.size() || v < lo || v > hi)
          return "expected an integer in " + std::to_string(lo) + ".." + std::to_string(hi) + ", got '" + s + "'";
        return "";
      },
      "INT in [" + std::to_string(lo) + ", " + std::to_string(hi) + "]");
}

// A fraction in [0, 1) (validation_split: 1 would leave nothing to train on).
inline CLI::Validator fraction_below_one() {
  return CLI::Validator(
      [](std::string& s) -> std::string {
        size_t used = 0;
        double v = -1;
        try {
          v = std::stod(s, &used);
        } catch (const std::exception&) {
          used = 0;
        }
        if (used == 0 || used != s.size() || !(v >= 0 && v < 1)) return "expected a number in [0, 1), got '" + s + "'";
        return "";
      },
      "FLOAT in [0, 1)");
}

constexpr int64_t kMaxFlagInt = int64_t{1} << 40;

}  // namespace accent::cli
