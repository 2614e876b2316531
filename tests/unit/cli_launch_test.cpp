// `accent launch` end to end: its help, flag errors, and workers that are the built binary itself — the arguments
// after `--` reach every worker untouched, and a failing worker's status becomes the launcher's.
#include <gtest/gtest.h>

#include <string>

#include "test_util.h"

using accent::testing::run_command;

namespace {

accent::testing::CmdResult launch(const std::string& args) {
  return run_command(std::string("'") + ACCENT_CLI_PATH + "' launch " + args + " < /dev/null");
}

size_t count_of(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + what.size())) ++n;
  return n;
}

}  // namespace

TEST(CliLaunch, HelpNamesTheFlags) {
  const auto r = launch("--help");
  ASSERT_EQ(r.rc, 0) << r.out;
  for (const char* flag : {"--nproc-per-node", "--nnodes", "--node-rank", "--master-addr", "--master-port",
                           "--local-addr", "--kill-grace-seconds"})
    EXPECT_NE(r.out.find(flag), std::string::npos) << flag << "\n" << r.out;
}

TEST(CliLaunch, BadFlagsAreRefusedClearly) {
  auto r = launch("--nproc-per-node 0 -- train");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("--nproc-per-node"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expected an integer in 1.."), std::string::npos) << r.out;

  r = launch("--nproc-per-node 2 --nnodes 2 --node-rank 2 -- train");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("error: --node-rank: expected 0 … 1"), std::string::npos) << r.out;

  r = launch("--nproc-per-node 2 --master-port 70000 -- train");
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("--master-port"), std::string::npos) << r.out;

  r = launch("--nproc-per-node 2");
  EXPECT_EQ(r.rc, 1);
  EXPECT_NE(r.out.find("no command to run"), std::string::npos) << r.out;

  r = launch("-- train");  // --nproc-per-node is required: no silent default of one worker
  EXPECT_NE(r.rc, 0);
  EXPECT_NE(r.out.find("--nproc-per-node"), std::string::npos) << r.out;
}

TEST(CliLaunch, ArgumentsAfterDashDashReachEveryWorker) {
  // `--help` after `--` is the workers' (accent tokenize's help, printed by each), not the launcher's.
  auto r = launch("--nproc-per-node 2 -- tokenize --help");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(count_of(r.out, "--is-split-into-words"), 2u) << r.out;
  // torchrun's underscore spellings and the form without `--` work too.
  r = launch("--nproc_per_node 2 --master_port 29511 tokenize --help");
  ASSERT_EQ(r.rc, 0) << r.out;
  EXPECT_EQ(count_of(r.out, "--is-split-into-words"), 2u) << r.out;
}

TEST(CliLaunch, FailingWorkersStatusIsTheLaunchers) {
  // Each worker refuses an unknown flag (CLI11's usage error, status 2); the launcher names the rank and exits 2.
  const auto r = launch("--nproc-per-node 2 --kill-grace-seconds 5 -- tokenize --model x --input - --no-such-flag");
  EXPECT_EQ(r.rc, 2) << r.out;
  EXPECT_NE(r.out.find("--no-such-flag"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("accent launch: rank "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(") exited with code 2"), std::string::npos) << r.out;
}
