// Helpers shared by the test files: a self-deleting temp directory and running commands (the built `accent`
// binary, the Python and node oracles).
#pragma once
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace accent::testing {

// A fresh directory under the system temp dir, removed with everything in it when the object goes away.
struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& tag = "test") {
    path = std::filesystem::temp_directory_path() /
           ("accent_" + tag + "_" + std::to_string(::getpid()) + "_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // The directory itself, or a file in it, as a string.
  std::string str(const std::string& child = "") const { return child.empty() ? path.string() : (path / child).string(); }
  std::string file(const std::string& name) const { return str(name); }
  std::string operator/(const std::string& name) const { return str(name); }
};

struct CmdResult {
  int rc;           // exit status; -1 when killed by a signal
  std::string out;  // stdout (and stderr when merged)
};

// Runs a shell command and returns its exit status and output; `merge_stderr` appends 2>&1.
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

// Runs a shell command and returns its stdout; throws when it does not exit 0.
inline std::string run_capture(const std::string& cmd) {
  CmdResult r = run_command(cmd, false);
  if (r.rc != 0) throw std::runtime_error("command failed (exit " + std::to_string(r.rc) + "): " + cmd);
  return r.out;
}

// Single-quotes an argument for /bin/sh.
inline std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// Every "score" of `accent predict` output (one JSON array per line; other lines ignored), in order.
inline std::vector<double> scores_of(const std::string& output) {
  std::vector<double> out;
  std::istringstream in(output);
  std::string line;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '[')
      for (const auto& s : nlohmann::json::parse(line)) out.push_back(s["score"].get<double>());
  return out;
}

// The last line of `output` that is a JSON object (e.g. `accent train --json`'s final metrics).
inline nlohmann::json last_json_line(const std::string& output) {
  std::istringstream in(output);
  std::string line, last;
  while (std::getline(in, line))
    if (!line.empty() && line[0] == '{') last = line;
  return nlohmann::json::parse(last);
}

}  // namespace accent::testing
