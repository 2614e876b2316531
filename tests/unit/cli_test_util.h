// Helpers shared by the CLI tests: a self-deleting temp directory and running the built `accent` binary.
#pragma once
#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <string>

namespace accent::testing {

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& prefix = "accent_cli_") {
    std::random_device rd;
    path = std::filesystem::temp_directory_path() / (prefix + std::to_string(rd()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  std::string str(const std::string& child = "") const { return child.empty() ? path.string() : (path / child).string(); }
};

struct CmdResult {
  int rc;
  std::string out;  // stdout (and stderr when merged)
};

// Runs a shell command; `merge_stderr` appends 2>&1.
inline CmdResult run_command(const std::string& cmd, bool merge_stderr = true) {
  CmdResult r{0, ""};
  FILE* p = popen((cmd + (merge_stderr ? " 2>&1" : "")).c_str(), "r");
  if (!p) return {-1, "popen failed"};
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  const int status = pclose(p);
  r.rc = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// Single-quotes an argument for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

}  // namespace accent::testing
