// dist/launcher: the workers' torchrun environment (pure), and launch_workers with /bin/sh scripts as workers —
// every rank sees its place, a failed rank ends the job quickly and is named, stragglers get SIGKILL, and a
// SIGTERM sent to the launcher reaches the workers.
#include "dist/launcher.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

#include "core/error.h"
#include "test_util.h"

using namespace accent;
using accent::testing::TempDir;

namespace {

// The environment as a map; fails the test when a name appears twice.
std::map<std::string, std::string> as_map(const std::vector<std::string>& env) {
  std::map<std::string, std::string> m;
  for (const std::string& e : env) {
    const size_t eq = e.find('=');
    const std::string name = e.substr(0, eq);
    EXPECT_EQ(m.count(name), 0u) << name << " set twice";
    m[name] = eq == std::string::npos ? "" : e.substr(eq + 1);
  }
  return m;
}

std::string slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// Options whose workers run `/bin/sh -c script`.
LaunchOptions shell_workers(int n, double grace_seconds = 30) {
  LaunchOptions o;
  o.nproc_per_node = n;
  o.program = "/bin/sh";
  o.kill_grace_seconds = grace_seconds;
  return o;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

TEST(DistLauncher, EnvironmentForTwoNodesOfTwoWorkers) {
  const std::vector<std::string> inherited = {"PATH=/usr/bin", "RANK=7", "WORLD_SIZE=9", "HOME=/root", "EMPTY="};
  for (int node = 0; node < 2; ++node) {
    LaunchOptions o;
    o.nproc_per_node = 2;
    o.nnodes = 2;
    o.node_rank = node;
    o.master_addr = "10.0.0.1";
    o.master_port = 1234;
    o.local_addr = node == 0 ? "127.0.0.2" : "127.0.0.3";
    for (int local = 0; local < 2; ++local) {
      const auto env = as_map(worker_environment(o, local, inherited));
      SCOPED_TRACE("node " + std::to_string(node) + " local " + std::to_string(local));
      EXPECT_EQ(env.at("RANK"), std::to_string(node * 2 + local));
      EXPECT_EQ(env.at("LOCAL_RANK"), std::to_string(local));
      EXPECT_EQ(env.at("WORLD_SIZE"), "4");
      EXPECT_EQ(env.at("LOCAL_WORLD_SIZE"), "2");
      EXPECT_EQ(env.at("GROUP_RANK"), std::to_string(node));
      EXPECT_EQ(env.at("MASTER_ADDR"), "10.0.0.1");
      EXPECT_EQ(env.at("MASTER_PORT"), "1234");
      EXPECT_EQ(env.at("ACCENT_LOCAL_ADDR"), o.local_addr);
      EXPECT_EQ(env.at("PATH"), "/usr/bin");  // the rest passes through
      EXPECT_EQ(env.at("HOME"), "/root");
      EXPECT_EQ(env.at("EMPTY"), "");
      EXPECT_EQ(env.size(), 11u);
    }
  }
}

TEST(DistLauncher, LocalAddrDefaultsToMasterAddrOnOneNodeOnly) {
  LaunchOptions o;
  o.nproc_per_node = 2;
  EXPECT_EQ(as_map(worker_environment(o, 1, {})).at("ACCENT_LOCAL_ADDR"), "127.0.0.1");
  EXPECT_EQ(as_map(worker_environment(o, 1, {})).at("MASTER_PORT"), "29500");
  o.nnodes = 2;
  EXPECT_EQ(effective_local_addr(o), "");
  EXPECT_EQ(as_map(worker_environment(o, 1, {})).count("ACCENT_LOCAL_ADDR"), 0u);
  // With several nodes and no --local-addr, the node's own setting passes through.
  EXPECT_EQ(as_map(worker_environment(o, 1, {"ACCENT_LOCAL_ADDR=192.168.1.5"})).at("ACCENT_LOCAL_ADDR"), "192.168.1.5");
}

TEST(DistLauncher, RejectsOptionsThatDescribeNoJob) {
  auto message = [](const LaunchOptions& o) -> std::string {
    try {
      check_launch_options(o);
    } catch (const Error& e) {
      return e.what();
    }
    return "(accepted)";
  };
  LaunchOptions o;
  EXPECT_EQ(message(o), "(accepted)");
  o.nproc_per_node = 0;
  EXPECT_NE(message(o).find("--nproc-per-node"), std::string::npos) << message(o);
  o = LaunchOptions{};
  o.nnodes = 2;
  o.node_rank = 2;
  EXPECT_NE(message(o).find("--node-rank: expected 0 … 1"), std::string::npos) << message(o);
  o = LaunchOptions{};
  o.master_port = 65536;
  EXPECT_NE(message(o).find("--master-port"), std::string::npos) << message(o);
  o.master_port = 0;
  EXPECT_NE(message(o).find("--master-port"), std::string::npos) << message(o);
  o = LaunchOptions{};
  o.kill_grace_seconds = -1;
  EXPECT_NE(message(o).find("--kill-grace-seconds"), std::string::npos) << message(o);
  o = shell_workers(1);
  EXPECT_THROW(launch_workers(o, {}), Error);  // no command
}

TEST(DistLauncher, AllWorkersSucceedAndEachSeesItsPlace) {
  TempDir dir("launcher");
  LaunchOptions o = shell_workers(3);
  o.nnodes = 2;
  o.node_rank = 1;
  o.local_addr = "127.0.0.3";
  std::ostringstream report;
  // Arguments arrive untouched: "$1" is an empty argument and "$2" one with spaces.
  const std::string script = "printf '%s %s %s %s %s [%s] [%s]' \"$RANK\" \"$LOCAL_RANK\" \"$WORLD_SIZE\" "
                             "\"$LOCAL_WORLD_SIZE\" \"$ACCENT_LOCAL_ADDR\" \"$1\" \"$2\" > '" + dir.str() +
                             "/rank_'$RANK";
  EXPECT_EQ(launch_workers(o, {"-c", script, "sh", "", "a b -- --help"}, report), 0);
  EXPECT_EQ(report.str(), "");  // a clean run says nothing
  for (int local = 0; local < 3; ++local) {
    const int rank = 3 + local;
    EXPECT_EQ(slurp(dir / ("rank_" + std::to_string(rank))),
              std::to_string(rank) + " " + std::to_string(local) + " 6 3 127.0.0.3 [] [a b -- --help]");
  }
}

TEST(DistLauncher, KilledWorkerEndsTheJobAndIsNamed) {
  // Local rank 1 kills itself with SIGKILL (as the OOM killer would); ranks 0 and 2 sleep for a minute and must be
  // stopped by the launcher's SIGTERM, not waited for.
  const auto start = std::chrono::steady_clock::now();
  std::ostringstream report;
  const int rc = launch_workers(shell_workers(3, 1), {"-c", "if [ $LOCAL_RANK = 1 ]; then sleep 0.2; kill -9 $$; fi; exec sleep 60"}, report);
  EXPECT_LT(seconds_since(start), 10);
  EXPECT_EQ(rc, 128 + SIGKILL);
  const std::string r = report.str();
  EXPECT_NE(r.find("accent launch: rank 1 (local rank 1, pid "), std::string::npos) << r;
  EXPECT_NE(r.find(") was killed by signal 9 (Killed)\n"), std::string::npos) << r;
  EXPECT_NE(r.find("stopping the 2 running workers: SIGTERM now, SIGKILL after 1 s"), std::string::npos) << r;
  // The first line is the failure; then how each sibling ended.
  EXPECT_EQ(r.rfind("accent launch: rank 1 ", 0), 0u) << r;
  for (int rank : {0, 2})
    EXPECT_NE(r.find("rank " + std::to_string(rank) + " (local rank " + std::to_string(rank) + ", pid "), std::string::npos) << r;
  EXPECT_EQ(std::count(r.begin(), r.end(), '\n'), 4) << r;
  EXPECT_NE(r.find("was killed by signal 15 (Terminated)"), std::string::npos) << r;
}

TEST(DistLauncher, FailedExitCodeIsReturnedAndStragglersAreKilled) {
  // Rank 1 exits 3; rank 0 ignores SIGTERM (the ignored disposition survives exec), so it gets SIGKILL after 1 s.
  const auto start = std::chrono::steady_clock::now();
  std::ostringstream report;
  const int rc = launch_workers(shell_workers(2, 1),
                                {"-c", "if [ $RANK = 1 ]; then sleep 0.2; exit 3; fi; trap '' TERM; exec sleep 60"}, report);
  const double took = seconds_since(start);
  EXPECT_EQ(rc, 3);
  EXPECT_GE(took, 1.0);
  EXPECT_LT(took, 10);
  const std::string r = report.str();
  EXPECT_NE(r.find("rank 1 (local rank 1, pid "), std::string::npos) << r;
  EXPECT_NE(r.find(") exited with code 3\n"), std::string::npos) << r;
  EXPECT_NE(r.find("still running 1 s after being told to stop: sending SIGKILL"), std::string::npos) << r;
  EXPECT_NE(r.find("rank 0 (local rank 0, pid "), std::string::npos) << r;
  EXPECT_NE(r.find("was killed by signal 9 (Killed)"), std::string::npos) << r;
}

TEST(DistLauncher, WorkersThatFinishedBeforeAFailureAreReported) {
  std::ostringstream report;
  EXPECT_EQ(launch_workers(shell_workers(2), {"-c", "[ $RANK = 0 ] && exit 0; sleep 0.3; exit 5"}, report), 5);
  const std::string r = report.str();
  EXPECT_NE(r.find("rank 1 (local rank 1, pid "), std::string::npos) << r;
  EXPECT_NE(r.find("exited with code 5"), std::string::npos) << r;
  EXPECT_NE(r.find("exited with code 0"), std::string::npos) << r;
  EXPECT_EQ(r.find("stopping"), std::string::npos) << r;  // nobody was left to stop
}

TEST(DistLauncher, SigtermToTheLauncherIsForwarded) {
  // Rank 0 sends SIGTERM to its parent, the launcher (this test process: launch_workers holds SIGTERM blocked and
  // takes it with sigtimedwait, so it does not end the test). Both workers sleep until the forwarded SIGTERM.
  const auto start = std::chrono::steady_clock::now();
  std::ostringstream report;
  const int rc = launch_workers(shell_workers(2, 5), {"-c", "[ $RANK = 0 ] && kill -TERM $PPID; exec sleep 60"}, report);
  EXPECT_LT(seconds_since(start), 4);  // well inside the grace period: the workers ended on SIGTERM
  EXPECT_EQ(rc, 128 + SIGTERM);
  const std::string r = report.str();
  EXPECT_NE(r.find("received SIGTERM: forwarding it to the 2 running workers"), std::string::npos) << r;
  EXPECT_EQ(std::count(r.begin(), r.end(), '\n'), 3) << r;
  // The launcher's mask is back as it was: SIGTERM is not blocked any more.
  sigset_t mask;
  pthread_sigmask(SIG_SETMASK, nullptr, &mask);
  EXPECT_FALSE(sigismember(&mask, SIGTERM));
}

TEST(DistLauncher, MissingProgramIsAnErrorNotAFailedWorker) {
  LaunchOptions o = shell_workers(2);
  o.program = "/nonexistent/accent";
  try {
    launch_workers(o, {"train"});
    FAIL() << "expected accent::Error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot start rank 0: /nonexistent/accent: No such file or directory"),
              std::string::npos)
        << e.what();
  }
}
