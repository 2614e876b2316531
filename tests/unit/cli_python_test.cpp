// The `accent` Python module (issue 18): tests/reference/python_module_check.py drives it with Debian's Python as a
// transformers user would — accent.train with TrainingArguments' keywords and a log callback, accent.pipeline
// ("text-classification") in every result shape HF gives, AutoTokenizer (lists and numpy), Ctrl-C during training —
// and compares it with the `accent` CLI on the same model.
#include <gtest/gtest.h>

#include <filesystem>

#include "cli_test_data.h"
#include "test_util.h"

using namespace accent::testing;
namespace fs = std::filesystem;

TEST(CliPython, ModuleTrainsClassifiesAndTokenizesLikeTheCli) {
  const fs::path module_dir = fs::path(ACCENT_CLI_PATH).parent_path() / "python";
  bool built = false;
  if (fs::is_directory(module_dir))
    for (const auto& e : fs::directory_iterator(module_dir)) built |= e.path().filename().string().rfind("accent.", 0) == 0;
  if (!built) GTEST_SKIP() << "the Python module was not built (pybind11-dev missing: scripts/setup.sh --tests)";
  TempDir tmp("python_module");
  write_tiny_bert(tmp.path / "base", TinyBert{16, 1, 32, 32});
  write_sst2_csv(tmp.path / "train.csv", 40);
  const CmdResult r = run_command("/usr/bin/python3 " + std::string(ACCENT_SOURCE_DIR) +
                                  "/tests/reference/python_module_check.py " + module_dir.string() + " " +
                                  ACCENT_CLI_PATH + " " + tmp.str("base") + " " + tmp.str("train.csv") + " " +
                                  tmp.str());
  EXPECT_EQ(r.rc, 0) << r.out;
  for (const char* line : {"train ok", "pipeline ok", "tokenizer ok", "ctrl-c ok"})
    EXPECT_NE(r.out.find(line), std::string::npos) << r.out;
}
