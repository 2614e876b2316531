// dist/launcher.h — `accent launch`: start the workers of a data-parallel job on this machine, like torchrun.
//
// The launcher of one node starts nproc_per_node copies of a program (by default this executable) with the same
// arguments, each told its place in the job through torchrun's environment variables (dist/distributed_env.h
// reads them): for worker `local_rank` of node `node_rank`,
//   RANK = node_rank * nproc_per_node + local_rank     LOCAL_RANK = local_rank
//   WORLD_SIZE = nnodes * nproc_per_node               LOCAL_WORLD_SIZE = nproc_per_node
//   GROUP_RANK = node_rank                             MASTER_ADDR, MASTER_PORT
//   ACCENT_LOCAL_ADDR = the address this node's workers bind to (when there is one, see LaunchOptions)
// Every other variable of the launcher's environment passes through unchanged; these replace any inherited value
// (an outer launcher's RANK/WORLD_SIZE included, as torchrun does). The workers share the launcher's stdin, stdout
// and stderr.
//
// It then watches them. A job is only as alive as its slowest rank — the others would wait forever in their next
// all-reduce — so the first worker that exits non-zero or is killed by a signal ends the job: the launcher says
// which rank it was, sends SIGTERM to the others, gives them a grace period to exit, SIGKILLs the ones still
// running, and exits with the failed worker's status. SIGINT and SIGTERM sent to the launcher are forwarded to the
// workers (then the same grace period). Unlike torchrun there are no restarts and no elastic membership: one node
// is one launcher, started by hand (or by a job script) on every node with the same master address and port.
#pragma once
#include <iosfwd>
#include <string>
#include <vector>

namespace accent {

struct LaunchOptions {
  int nproc_per_node = 1;  // workers this launcher starts (torchrun's --nproc-per-node), ≥ 1
  int nnodes = 1;          // launchers in the job, one per node (torchrun's --nnodes); WORLD_SIZE = nnodes × nproc
  int node_rank = 0;       // this launcher's node, 0 … nnodes−1 (torchrun's --node-rank)
  std::string master_addr = "127.0.0.1";  // where rank 0 listens for the rendezvous
  int master_port = 29500;                // its port, 1 … 65535 (torchrun's default)
  // The address this node's workers bind their connections to (ACCENT_LOCAL_ADDR). "" = the default: master_addr
  // when nnodes == 1 (the whole job is on this machine), else unset — the workers choose (dist/distributed_env.h),
  // and an ACCENT_LOCAL_ADDR of the launcher's own environment passes through. Set it to simulate several nodes on
  // one machine: launchers with --local-addr 127.0.0.2 and 127.0.0.3.
  std::string local_addr;
  // After the first failure (or a forwarded SIGINT/SIGTERM): how long the other workers have to exit before they
  // are sent SIGKILL.
  double kill_grace_seconds = 30;
  // The program each worker runs: "" = this executable (/proc/self/exe), so `accent launch -- train ...` runs
  // `accent train ...`. Tests set /bin/sh.
  std::string program;
};

// Throws accent::Error, naming the flag, when the options cannot describe a job: nproc_per_node or nnodes < 1,
// node_rank outside 0 … nnodes−1, a port outside 1 … 65535, an empty master address, a negative or non-finite grace
// period, or a world size past 2^30.
void check_launch_options(const LaunchOptions& options);

// The value ACCENT_LOCAL_ADDR gets ("" = not set by the launcher): options.local_addr, else master_addr when
// nnodes == 1.
std::string effective_local_addr(const LaunchOptions& options);

// The environment of worker `local_rank` ("KEY=VALUE" entries): `inherited` (e.g. the launcher's environ) with the
// variables above set, each exactly once, in place of any inherited entry of the same name. Pure: no process state.
std::vector<std::string> worker_environment(const LaunchOptions& options, int local_rank,
                                            const std::vector<std::string>& inherited);

// Starts the workers, each running `options.program` with `worker_args` as its arguments (argv[1] on; for
// `accent launch -- train --lr 2e-5` that is {"train", "--lr", "2e-5"}), waits for all of them and returns the
// launcher's exit status: 0 when every worker exited 0; else the first failed worker's exit code, or 128 + its
// signal; 128 + the signal when the launcher itself was sent SIGINT/SIGTERM first. How each worker ended is written
// to `report` (one line each, "accent launch: rank 1 (local rank 1, pid 1234) was killed by signal 9 (Killed)") once
// anything went wrong; a clean run writes nothing.
//
// Throws accent::Error for invalid options, an empty `worker_args`, or a worker that cannot be started (after
// stopping the ones already started). Signals: SIGINT, SIGTERM and SIGCHLD are blocked in the calling thread while
// it runs and taken with sigtimedwait, so call it from a process whose other threads (if any) block them too, as the
// CLI's launch verb (single-threaded) does. Workers get the caller's signal mask back, and SIGTERM if the launcher
// dies (PR_SET_PDEATHSIG), so a `kill -9` of the launcher does not leave workers waiting for their peers forever.
int launch_workers(const LaunchOptions& options, const std::vector<std::string>& worker_args, std::ostream& report);
int launch_workers(const LaunchOptions& options, const std::vector<std::string>& worker_args);  // report: std::cerr

}  // namespace accent
