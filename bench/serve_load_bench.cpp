// bench/serve_load_bench.cpp — issue 13's load test of `accent serve`, loopback only, bounded in requests and time.
//
// 1. Offline reference: `accent predict --top-k all --truncation` on all the texts (one per line), timed twice —
//    on every text and on the first one alone — so offline sentences/s = (N − 1) / (T_N − T_1): the model load and
//    warm-up cancel out. Its output is also the expected answer of every request.
// 2. `accent serve --port 0` with the same model, precision and threads; then for each concurrency C (default 1, 8,
//    64): C client threads, each on its own keep-alive connection, send POST /predict {"inputs": [texts...],
//    "truncate": true} with --texts-per-request texts taken in turn from the list (mixed lengths), until
//    --requests requests are answered or --max-seconds pass. Every answer is checked against the offline one
//    (labels in the same order, scores within --tolerance); a failed or wrong response is counted, never dropped.
// 3. Per level: requests/s, sentences/s, p50/p99 latency (client-side, send → whole answer read), failed and wrong
//    responses, and the server's peak RSS (VmHWM from /proc, since start); then offline's sentences/s and the
//    ratio at the highest concurrency. A markdown table and METRIC lines.
//
//   build/serve_load_bench --accent build/accent --model DIR --texts FILE [--concurrency 1,8,64] [--requests 2000]
//                          [--max-seconds 60] [--texts-per-request 1] [--precision fp32] [--threads N]
//                          [--tolerance 1e-5]
// bench/serve_load.sh builds the texts (SST-2 dev + the demo's mails) and a model, then runs this.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_common.h"
#include "io/httplib_build.h"

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;
using accent::bench::percentile;
using accent::bench::seconds_since;

namespace {

struct Args {
  std::string accent = "build/accent", model, texts;
  std::vector<int> concurrency{1, 8, 64};
  int64_t requests = 2000;
  double max_seconds = 60;
  int texts_per_request = 1;
  std::string precision = "fp32";
  int threads = 0;
  double tolerance = 1e-5;
};

std::string shell_quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string compute_flags(const Args& a) {
  return " --precision " + a.precision + (a.threads > 0 ? " --threads " + std::to_string(a.threads) : std::string());
}

// Runs `cmd`, returns its stdout and the wall time.
std::string run_timed(const std::string& cmd, double& seconds) {
  const auto t0 = Clock::now();
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) throw std::runtime_error("cannot run " + cmd);
  std::string out;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  const int status = pclose(p);
  seconds = seconds_since(t0);
  if (status != 0) throw std::runtime_error("failed: " + cmd);
  return out;
}

// The server as a child process; its port is read from the "listening on" line.
struct Server {
  pid_t pid = -1;
  int port = 0;
  Server(const Args& a) {
    int out[2];
    if (pipe(out) != 0) throw std::runtime_error("pipe");
    pid = fork();
    if (pid == 0) {
      dup2(out[1], 1);
      close(out[0]);
      const std::string cmd = "exec " + shell_quote(a.accent) + " serve --host 127.0.0.1 --port 0 --model " +
                              shell_quote(a.model) + compute_flags(a) + " --max-concurrent-requests 1024";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    close(out[1]);
    std::string seen;
    const auto until = Clock::now() + std::chrono::seconds(300);
    while (Clock::now() < until) {
      pollfd pf{out[0], POLLIN, 0};
      if (poll(&pf, 1, 200) <= 0) continue;
      char buf[256];
      const ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0) break;
      seen.append(buf, static_cast<size_t>(n));
      const std::string tag = "listening on http://127.0.0.1:";
      const auto at = seen.find(tag);
      if (at != std::string::npos && seen.find('\n', at) != std::string::npos) {
        port = std::stoi(seen.substr(at + tag.size()));
        return;
      }
    }
    stop();
    throw std::runtime_error("accent serve did not start: " + seen);
  }
  // VmHWM: the peak resident set since the process started, in MiB.
  double peak_rss_mib() const {
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
      if (line.rfind("VmHWM:", 0) == 0) return std::stod(line.substr(6)) / 1024.0;
    return 0;
  }
  int stop() {
    if (pid <= 0) return -1;
    kill(pid, SIGTERM);
    int status = 0;
    waitpid(pid, &status, 0);
    pid = -1;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
  ~Server() {
    if (pid > 0) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
    }
  }
};

bool same_answer(const json& got, const json& want, double tolerance) {
  if (!got.is_array() || got.size() != want.size()) return false;
  for (size_t k = 0; k < want.size(); ++k) {
    if (got[k].value("label", "") != want[k]["label"].get<std::string>()) return false;
    if (!got[k].contains("score") || !got[k]["score"].is_number()) return false;
    if (std::fabs(got[k]["score"].get<double>() - want[k]["score"].get<double>()) > tolerance) return false;
  }
  return true;
}

struct Level {
  int concurrency = 0;
  int64_t answered = 0, failed = 0, wrong = 0, sentences = 0;
  double seconds = 0, p50_ms = 0, p99_ms = 0, peak_rss_mib = 0;
};

Level run_level(const Args& a, int port, int concurrency, const std::vector<std::string>& texts,
                const std::vector<json>& expected) {
  Level level;
  level.concurrency = concurrency;
  std::atomic<int64_t> next{0}, failed{0}, wrong{0}, sentences{0};
  std::mutex latencies_mutex;
  std::vector<double> latencies;
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(a.max_seconds);
  std::vector<std::thread> clients;
  for (int c = 0; c < concurrency; ++c)
    clients.emplace_back([&] {
      httplib::Client client("127.0.0.1", port);
      client.set_keep_alive(true);
      client.set_read_timeout(120, 0);
      std::vector<double> mine;
      for (int64_t r; Clock::now() < deadline && (r = next++) < a.requests;) {
        json inputs = json::array();
        std::vector<size_t> rows;
        for (int k = 0; k < a.texts_per_request; ++k) {
          const size_t i = static_cast<size_t>(r * a.texts_per_request + k) % texts.size();
          rows.push_back(i);
          inputs.push_back(json::array({texts[i]}));
        }
        const std::string body = json{{"inputs", inputs}, {"truncate", true}}.dump();
        const auto t0 = Clock::now();
        auto res = client.Post("/predict", body, "application/json");
        const double ms = seconds_since(t0) * 1e3;
        if (!res || res->status != 200) {
          ++failed;
          continue;
        }
        mine.push_back(ms);
        const json got = json::parse(res->body, nullptr, false);
        bool ok = got.is_array() && got.size() == rows.size();
        for (size_t k = 0; ok && k < rows.size(); ++k) ok = same_answer(got[k], expected[rows[k]], a.tolerance);
        if (!ok) ++wrong;
        sentences += static_cast<int64_t>(rows.size());
      }
      std::lock_guard<std::mutex> lock(latencies_mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  for (auto& t : clients) t.join();
  level.seconds = seconds_since(start);
  level.answered = static_cast<int64_t>(latencies.size());
  level.failed = failed;
  level.wrong = wrong;
  level.sentences = sentences;
  level.p50_ms = percentile(latencies, 50);
  level.p99_ms = percentile(latencies, 99);
  return level;
}

std::vector<int> parse_ints(const std::string& s) {
  std::vector<int> out;
  std::stringstream in(s);
  for (std::string item; std::getline(in, item, ',');) out.push_back(std::stoi(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::runtime_error(k + " needs a value");
      return argv[++i];
    };
    if (k == "--accent") a.accent = value();
    else if (k == "--model") a.model = value();
    else if (k == "--texts") a.texts = value();
    else if (k == "--concurrency") a.concurrency = parse_ints(value());
    else if (k == "--requests") a.requests = std::stoll(value());
    else if (k == "--max-seconds") a.max_seconds = std::stod(value());
    else if (k == "--texts-per-request") a.texts_per_request = std::stoi(value());
    else if (k == "--precision") a.precision = value();
    else if (k == "--threads") a.threads = std::stoi(value());
    else if (k == "--tolerance") a.tolerance = std::stod(value());
    else {
      std::fprintf(stderr, "unknown argument %s\n", k.c_str());
      return 2;
    }
  }
  if (a.model.empty() || a.texts.empty()) {
    std::fprintf(stderr, "usage: serve_load_bench --accent ACCENT --model DIR --texts FILE [...]\n");
    return 2;
  }
  std::vector<std::string> texts;
  {
    std::ifstream in(a.texts);
    for (std::string line; std::getline(in, line);)
      if (!line.empty()) texts.push_back(line);
  }
  if (texts.size() < 2) throw std::runtime_error("need at least 2 texts in " + a.texts);
  const std::string first = a.texts + "-first.txt";  // .txt: predict reads it as plain text
  std::ofstream(first) << texts[0] << "\n";

  // 1. Offline.
  const std::string predict = shell_quote(a.accent) + " predict --model " + shell_quote(a.model) + compute_flags(a) +
                              " --top-k all --truncation 2>/dev/null --input ";
  double t_all = 0, t_one = 0;
  const std::string offline = run_timed(predict + shell_quote(a.texts), t_all);
  run_timed(predict + shell_quote(first), t_one);
  std::vector<json> expected;
  std::istringstream lines(offline);
  for (std::string line; std::getline(lines, line);)
    if (!line.empty() && line[0] == '[') expected.push_back(json::parse(line));
  if (expected.size() != texts.size()) throw std::runtime_error("accent predict answered " + std::to_string(expected.size()) +
                                                                " of " + std::to_string(texts.size()) + " texts");
  const double offline_rate = static_cast<double>(texts.size() - 1) / std::max(1e-9, t_all - t_one);
  std::printf("offline: accent predict on %zu texts in %.2f s, 1 text in %.2f s -> %.1f sentences/s\n", texts.size(),
              t_all, t_one, offline_rate);

  // 2. Server.
  Server server(a);
  std::vector<Level> levels;
  for (int c : a.concurrency) {
    levels.push_back(run_level(a, server.port, c, texts, expected));
    levels.back().peak_rss_mib = server.peak_rss_mib();
    const Level& l = levels.back();
    std::printf("concurrency %d: %lld answered in %.2f s, %lld failed, %lld wrong\n", c, static_cast<long long>(l.answered),
                l.seconds, static_cast<long long>(l.failed), static_cast<long long>(l.wrong));
    std::fflush(stdout);
  }
  const int exit_code = server.stop();

  // 3. Table.
  std::printf("\n| concurrency | requests | req/s | sentences/s | p50 ms | p99 ms | failed | wrong | server peak RSS MiB |\n");
  std::printf("|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const Level& l : levels)
    std::printf("| %d | %lld | %.1f | %.1f | %.1f | %.1f | %lld | %lld | %.0f |\n", l.concurrency,
                static_cast<long long>(l.answered), static_cast<double>(l.answered) / l.seconds,
                static_cast<double>(l.sentences) / l.seconds, l.p50_ms, l.p99_ms, static_cast<long long>(l.failed),
                static_cast<long long>(l.wrong), l.peak_rss_mib);
  std::printf("| offline `accent predict` | %zu texts | | %.1f | | | | | |\n", texts.size(), offline_rate);
  const Level& top = levels.back();
  const double ratio = static_cast<double>(top.sentences) / top.seconds / offline_rate;
  std::printf("\nserver sentences/s at concurrency %d = %.0f%% of offline; server exit code after SIGTERM: %d\n",
              top.concurrency, 100.0 * ratio, exit_code);
  for (const Level& l : levels) {
    const std::string c = std::to_string(l.concurrency);
    accent::bench::metric("serve_c" + c + "_req_per_s", static_cast<double>(l.answered) / l.seconds);
    accent::bench::metric("serve_c" + c + "_sentences_per_s", static_cast<double>(l.sentences) / l.seconds);
    accent::bench::metric("serve_c" + c + "_p50_ms", l.p50_ms);
    accent::bench::metric("serve_c" + c + "_p99_ms", l.p99_ms);
    accent::bench::metric("serve_c" + c + "_failed", static_cast<double>(l.failed));
    accent::bench::metric("serve_c" + c + "_wrong", static_cast<double>(l.wrong));
  }
  accent::bench::metric("offline_sentences_per_s", offline_rate);
  accent::bench::metric("serve_vs_offline", ratio);
  int64_t bad = 0;
  for (const Level& l : levels) bad += l.failed + l.wrong;
  return bad == 0 && exit_code == 0 ? 0 : 1;
}
