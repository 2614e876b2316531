// Data shared by the CLI tests: real SST-2 rows from tests/data as a text,label CSV.
#pragma once
#include <filesystem>
#include <fstream>
#include <string>

#include "core/fs.h"
#include "data/csv_writer.h"

namespace accent::testing {

// The first `n` rows of SST-2 train (tests/data) as text,label with label names "negative"/"positive";
// `one_class` labels every row "positive" (for the one-class error).
inline void write_sst2_csv(const std::filesystem::path& path, size_t n, bool one_class = false) {
  std::ifstream in(std::string(ACCENT_TEST_DATA_DIR) + "/sentiment/sst2/train.tsv");
  std::string line;
  std::getline(in, line);  // header
  std::string out = csv_record({"text", "label"});
  for (size_t i = 0; i < n && std::getline(in, line); ++i) {
    const size_t tab = line.rfind('\t');
    const bool positive = one_class || line.substr(tab + 1) == "1";
    out += csv_record({line.substr(0, tab), positive ? "positive" : "negative"});
  }
  write_file_atomic(path.string(), out);
}

}  // namespace accent::testing
