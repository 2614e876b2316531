// Helpers shared by the test files: a self-deleting temp directory and running commands (the built `accent`
// binary, the Python and node oracles).
#pragma once
#include <netinet/in.h>
#include <sys/socket.h>
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

// A TCP port on 127.0.0.1 that nobody listens on now (the kernel's pick for a socket bound to port 0), for tests
// that start servers or data-parallel rendezvous; 0 if the kernel would not give one.
inline int free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 && getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0)
    port = ntohs(a.sin_port);
  close(fd);
  return port;
}

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
