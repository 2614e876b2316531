// Bounded fuzzing of the readers of untrusted files (fuzz/run.sh): safetensors, pytorch_model.bin (whole archive
// and pickle), config.json, JSONL/JSON data rows, the tokenizer JSON files and training_args.json, a LoRA adapter's
// adapter_config.json and accent_labels.json, a checkpoint's JSON files, shard indexes and `accent serve`'s request
// bodies, 15 s each under ASan + UBSan + libFuzzer. Fails when any target reports a crash, leak,
// undefined behaviour, uncaught non-accent exception, broken invariant or hang; the log names the reproducer.
// Needs clang++ with libFuzzer (Debian: clang, libclang-rt-14-dev; scripts/setup.sh installs them).
#include <gtest/gtest.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

namespace fs = std::filesystem;

namespace {
constexpr int kSecondsPerTarget = 15;

bool have_clang() { return std::system("command -v clang++ >/dev/null 2>&1") == 0; }

// Runs `cmd`, echoing its output into the test log; returns the exit status.
int run_echo(const std::string& cmd, std::string* output) {
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return -1;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) output->append(buf, n);
  const int status = pclose(p);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}
}  // namespace

TEST(IoFuzz, ReadersSurviveBoundedFuzzing) {
  if (!have_clang()) GTEST_SKIP() << "clang++ not installed (scripts/setup.sh installs clang and libclang-rt-14-dev)";
  // The fuzz build lives next to this build (dirname of the accent binary)/fuzz, corpus kept between runs.
  const fs::path build = fs::path(ACCENT_CLI_PATH).parent_path() / "fuzz";
  const std::string cmd = "cd '" + std::string(ACCENT_SOURCE_DIR) + "' && ACCENT_FUZZ_BUILD_DIR='" + build.string() +
                          "' bash fuzz/run.sh " + std::to_string(kSecondsPerTarget) + " 2>&1";
  std::string output;
  const int rc = run_echo(cmd, &output);
  std::printf("%s", output.c_str());
  EXPECT_EQ(rc, 0) << cmd << "\n" << output;
  // Every target ran (a summary line per target with its execution count).
  for (const char* target : {"safetensors", "torch_bin", "torch_pickle", "config", "jsonl", "tokenizer_files",
                             "adapter_config", "checkpoint_files", "shard_index", "serve_request"})
    EXPECT_NE(output.find(std::string(target) + " "), std::string::npos) << "no summary for " << target;
}
