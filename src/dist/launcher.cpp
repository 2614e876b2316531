#include "dist/launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string_view>

#include "core/error.h"

namespace accent {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int64_t kMaxWorldSize = int64_t{1} << 30;  // what dist/distributed_env.cpp accepts in WORLD_SIZE

// One started worker and, once it ended, how.
struct Worker {
  int rank = 0;
  int local_rank = 0;
  pid_t pid = -1;
  bool running = false;
  bool reported = false;   // its ending was written to the report
  int status = 0;          // waitpid's status, once it ended
  bool status_lost = false;  // it ended but its status was collected by someone else (waitpid said ECHILD)
};

std::string describe(const Worker& w) {
  return "rank " + std::to_string(w.rank) + " (local rank " + std::to_string(w.local_rank) + ", pid " +
         std::to_string(w.pid) + ")";
}

bool succeeded(const Worker& w) { return !w.status_lost && WIFEXITED(w.status) && WEXITSTATUS(w.status) == 0; }

// The launcher's exit status for a failed worker: its exit code, or 128 + the signal that killed it (as shells say).
int exit_code_of(const Worker& w) {
  if (w.status_lost) return 1;
  return WIFEXITED(w.status) ? WEXITSTATUS(w.status) : 128 + WTERMSIG(w.status);
}

std::string ending_of(const Worker& w) {
  if (w.status_lost) return "ended, but its exit status was collected elsewhere in this process (waitpid: ECHILD)";
  if (WIFEXITED(w.status)) return "exited with code " + std::to_string(WEXITSTATUS(w.status));
  const int sig = WTERMSIG(w.status);
  const char* name = strsignal(sig);
  return "was killed by signal " + std::to_string(sig) + " (" + (name ? name : "unknown") + ")" +
         (WCOREDUMP(w.status) ? ", core dumped" : "");
}

std::string seconds_text(double s) {
  std::ostringstream os;
  os << s << " s";
  return os.str();
}

// SIGINT, SIGTERM and SIGCHLD, blocked in this thread for the launcher's lifetime and taken with sigtimedwait:
// the loop sees a worker's end or a forwarded signal as an ordinary return value, with no handler to write in
// async-signal-safe code (the same pattern as cli/serve.cpp). A blocked signal stays pending even when its action
// is to ignore it (SIGCHLD's default), so sigtimedwait sees it; an inherited SIG_IGN for SIGCHLD, though, would
// make the kernel reap the workers itself, so it is set to the default while the launcher runs.
class WatchedSignals {
 public:
  WatchedSignals() {
    sigemptyset(&watched_);
    sigaddset(&watched_, SIGCHLD);
    sigaddset(&watched_, SIGINT);
    sigaddset(&watched_, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &watched_, &previous_mask_);
    struct sigaction default_action {};
    default_action.sa_handler = SIG_DFL;
    sigemptyset(&default_action.sa_mask);
    sigaction(SIGCHLD, nullptr, &previous_sigchld_);
    if (previous_sigchld_.sa_handler == SIG_IGN || (previous_sigchld_.sa_flags & SA_NOCLDWAIT)) {
      sigaction(SIGCHLD, &default_action, nullptr);
      restore_sigchld_ = true;
    }
  }
  ~WatchedSignals() {
    if (restore_sigchld_) sigaction(SIGCHLD, &previous_sigchld_, nullptr);
    pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
  }
  WatchedSignals(const WatchedSignals&) = delete;
  WatchedSignals& operator=(const WatchedSignals&) = delete;

  // The mask the caller had: what the workers start with.
  const sigset_t& previous_mask() const { return previous_mask_; }

  // Waits up to `timeout` for one of the signals; returns it, or 0 when none came.
  int wait(Clock::duration timeout) {
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    const timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
    const int sig = sigtimedwait(&watched_, nullptr, &ts);
    return sig > 0 ? sig : 0;  // -1: timed out (EAGAIN) or interrupted (EINTR); the caller looks again either way
  }

 private:
  sigset_t watched_{};
  sigset_t previous_mask_{};
  struct sigaction previous_sigchld_ {};
  bool restore_sigchld_ = false;
};

// Starts `path` with `argv` and `env` in a new process and returns its pid; throws accent::Error (naming `who`)
// when it cannot be started. fork + execve rather than posix_spawn for PR_SET_PDEATHSIG: a worker whose launcher
// dies (even by SIGKILL) gets SIGTERM instead of waiting for its peers forever. Between fork and execve the child
// calls only async-signal-safe functions (the launcher may have other threads); a close-on-exec pipe carries
// execve's errno back, so a missing program is an error here, not a worker that "exited with code 127".
pid_t start_process(const std::string& path, const std::vector<std::string>& argv, const std::vector<std::string>& env,
                    const sigset_t& child_mask, const std::string& who) {
  std::vector<char*> argv_ptrs, env_ptrs;
  for (const std::string& a : argv) argv_ptrs.push_back(const_cast<char*>(a.c_str()));
  argv_ptrs.push_back(nullptr);
  for (const std::string& e : env) env_ptrs.push_back(const_cast<char*>(e.c_str()));
  env_ptrs.push_back(nullptr);

  int error_pipe[2];
  if (pipe2(error_pipe, O_CLOEXEC) != 0) fail("accent launch: cannot start ", who, ": pipe: ", std::strerror(errno));
  const pid_t launcher = getpid();
  const pid_t pid = fork();
  if (pid < 0) {
    const int err = errno;
    close(error_pipe[0]);
    close(error_pipe[1]);
    fail("accent launch: cannot start ", who, ": fork: ", std::strerror(err));
  }
  if (pid == 0) {
    close(error_pipe[0]);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (getppid() != launcher) _exit(127);  // the launcher died before PR_SET_PDEATHSIG took effect
    sigprocmask(SIG_SETMASK, &child_mask, nullptr);
    execve(path.c_str(), argv_ptrs.data(), env_ptrs.data());
    const int err = errno;
    [[maybe_unused]] const ssize_t written = write(error_pipe[1], &err, sizeof err);
    _exit(127);
  }
  close(error_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = read(error_pipe[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  close(error_pipe[0]);
  if (got > 0) {  // execve failed; end-of-file (0) means it succeeded and closed the pipe
    waitpid(pid, nullptr, 0);
    fail("accent launch: cannot start ", who, ": ", path, ": ", std::strerror(exec_errno));
  }
  return pid;
}

// "KEY=VALUE" → "KEY" (the whole entry when it has no '=').
std::string_view name_of(std::string_view entry) { return entry.substr(0, entry.find('=')); }

}  // namespace

void check_launch_options(const LaunchOptions& o) {
  ACCENT_CHECK(o.nproc_per_node >= 1, "--nproc-per-node: expected at least 1 worker per node, got ", o.nproc_per_node);
  ACCENT_CHECK(o.nnodes >= 1, "--nnodes: expected at least 1 node, got ", o.nnodes);
  ACCENT_CHECK(o.node_rank >= 0 && o.node_rank < o.nnodes, "--node-rank: expected 0 … ", o.nnodes - 1,
               " (one less than --nnodes ", o.nnodes, "), got ", o.node_rank);
  ACCENT_CHECK(int64_t{o.nnodes} * o.nproc_per_node <= kMaxWorldSize, "--nnodes ", o.nnodes, " × --nproc-per-node ",
               o.nproc_per_node, " workers is more than accent supports (", kMaxWorldSize, ")");
  ACCENT_CHECK(o.master_port >= 1 && o.master_port <= 65535, "--master-port: expected 1 … 65535, got ", o.master_port);
  ACCENT_CHECK(!o.master_addr.empty(), "--master-addr: expected the address of the node that runs rank 0, got ''");
  ACCENT_CHECK(std::isfinite(o.kill_grace_seconds) && o.kill_grace_seconds >= 0,
               "--kill-grace-seconds: expected a number of seconds ≥ 0, got ", o.kill_grace_seconds);
}

std::string effective_local_addr(const LaunchOptions& o) {
  if (!o.local_addr.empty()) return o.local_addr;
  return o.nnodes == 1 ? o.master_addr : std::string();
}

std::vector<std::string> worker_environment(const LaunchOptions& o, int local_rank,
                                            const std::vector<std::string>& inherited) {
  std::vector<std::pair<std::string, std::string>> set = {
      {"RANK", std::to_string(o.node_rank * o.nproc_per_node + local_rank)},
      {"LOCAL_RANK", std::to_string(local_rank)},
      {"WORLD_SIZE", std::to_string(o.nnodes * o.nproc_per_node)},
      {"LOCAL_WORLD_SIZE", std::to_string(o.nproc_per_node)},
      {"GROUP_RANK", std::to_string(o.node_rank)},
      {"MASTER_ADDR", o.master_addr},
      {"MASTER_PORT", std::to_string(o.master_port)},
  };
  if (const std::string local = effective_local_addr(o); !local.empty()) set.emplace_back("ACCENT_LOCAL_ADDR", local);

  std::vector<std::string> env;
  env.reserve(inherited.size() + set.size());
  for (const std::string& entry : inherited) {
    bool replaced = false;
    for (const auto& [name, value] : set) replaced = replaced || name_of(entry) == name;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [name, value] : set) env.push_back(name + "=" + value);
  return env;
}

int launch_workers(const LaunchOptions& o, const std::vector<std::string>& worker_args) {
  return launch_workers(o, worker_args, std::cerr);
}

int launch_workers(const LaunchOptions& o, const std::vector<std::string>& worker_args, std::ostream& report) {
  check_launch_options(o);
  ACCENT_CHECK(!worker_args.empty(), "accent launch: no command to run: give the worker's arguments after '--', "
               "e.g. accent launch --nproc-per-node 2 -- train --model ... --data ...");

  // The program and its argv[0]: this executable, named by its real path (what `ps` then shows).
  const std::string path = o.program.empty() ? "/proc/self/exe" : o.program;
  std::string argv0 = path;
  if (o.program.empty()) {
    char buf[PATH_MAX];
    const ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
    if (n > 0) argv0.assign(buf, static_cast<size_t>(n));
  }
  std::vector<std::string> argv{argv0};
  argv.insert(argv.end(), worker_args.begin(), worker_args.end());
  std::vector<std::string> inherited;
  for (char** e = environ; e && *e; ++e) inherited.emplace_back(*e);

  WatchedSignals signals;  // before the first fork: no worker's end can be missed
  const auto grace = std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(o.kill_grace_seconds));
  std::vector<Worker> workers(o.nproc_per_node);
  for (int local = 0; local < o.nproc_per_node; ++local) {
    Worker& w = workers[local];
    w.local_rank = local;
    w.rank = o.node_rank * o.nproc_per_node + local;
    try {
      w.pid = start_process(path, argv, worker_environment(o, local, inherited), signals.previous_mask(),
                            "rank " + std::to_string(w.rank));
      w.running = true;
    } catch (const Error&) {
      // The job cannot run without this rank: the ones already started would wait for it in the rendezvous.
      for (Worker& started : workers)
        if (started.running) kill(started.pid, SIGKILL);
      for (Worker& started : workers)
        if (started.running) waitpid(started.pid, nullptr, 0);
      throw;
    }
  }

  int exit_code = 0;
  bool stopping = false;  // something went wrong: the workers still running were told to stop
  bool killed = false;    // the grace period ran out and they were sent SIGKILL
  Clock::time_point kill_at{};
  int running = o.nproc_per_node;
  auto running_ones = [&] { return std::to_string(running) + " running worker" + (running == 1 ? "" : "s"); };
  auto send_to_running = [&](int sig) {
    for (Worker& w : workers)
      if (w.running) kill(w.pid, sig);
  };

  while (running > 0) {
    // Collect every worker that ended since the last look: one SIGCHLD may stand for several.
    for (Worker& w : workers) {
      if (!w.running) continue;
      const pid_t got = waitpid(w.pid, &w.status, WNOHANG);
      if (got == 0 || (got < 0 && errno == EINTR)) continue;
      w.running = false;
      w.status_lost = got < 0;
      --running;
      if (stopping || succeeded(w)) continue;
      // The first failure ends the job.
      exit_code = exit_code_of(w);
      report << "accent launch: " << describe(w) << " " << ending_of(w) << "\n";
      w.reported = true;
      if (running > 0)
        report << "accent launch: stopping the " << running_ones() << ": SIGTERM now, SIGKILL after "
               << seconds_text(o.kill_grace_seconds) << "\n";
      send_to_running(SIGTERM);
      stopping = true;
      kill_at = Clock::now() + grace;
    }
    // Once something went wrong, say how every worker ended (those that had already exited 0 included).
    if (stopping) {
      for (Worker& w : workers) {
        if (w.running || w.reported) continue;
        report << "accent launch: " << describe(w) << " " << ending_of(w) << "\n";
        w.reported = true;
      }
    }
    if (running == 0) break;

    Clock::duration timeout = std::chrono::seconds(1);  // a safety net: SIGCHLD is the usual wake-up
    if (stopping && !killed) {
      const Clock::time_point now = Clock::now();
      if (now >= kill_at) {
        for (const Worker& w : workers)
          if (w.running)
            report << "accent launch: " << describe(w) << " still running " << seconds_text(o.kill_grace_seconds)
                   << " after being told to stop: sending SIGKILL\n";
        send_to_running(SIGKILL);
        killed = true;
      } else {
        timeout = std::min(timeout, kill_at - now);
      }
    }
    report.flush();
    const int sig = signals.wait(timeout);
    if (sig == SIGINT || sig == SIGTERM) {
      // Forward it (every time: a second Ctrl-C reaches the workers too); the first one also starts the grace period.
      if (!stopping) {
        report << "accent launch: received " << (sig == SIGINT ? "SIGINT" : "SIGTERM") << ": forwarding it to the "
               << running_ones() << "; SIGKILL after " << seconds_text(o.kill_grace_seconds) << "\n";
        exit_code = 128 + sig;
        stopping = true;
        kill_at = Clock::now() + grace;
      }
      send_to_running(sig);
    }
  }
  report.flush();
  return exit_code;
}

}  // namespace accent
