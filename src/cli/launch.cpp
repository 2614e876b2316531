// cli/launch.cpp — `accent launch`: torchrun for people without torchrun. Starts --nproc-per-node workers of this
// executable with the arguments after `--`, each with torchrun's RANK/LOCAL_RANK/WORLD_SIZE/... environment, and
// watches them (dist/launcher.h has the whole contract):
//
//   accent launch --nproc-per-node 4 -- train --model bert-base-uncased --data reviews.csv
//   # two nodes: the same line on both, --node-rank 0 on the one whose address is --master-addr, 1 on the other
//   accent launch --nproc-per-node 4 --nnodes 2 --node-rank 1 --master-addr 10.0.0.1 -- train ...
//
// Everything after `--` reaches the workers untouched. The command is one positional that takes the rest of the
// line (CLI11's positionals_at_end), so `accent launch --nproc-per-node 2 train --epochs 3` works too, as torchrun's
// `torchrun --nproc-per-node 2 train.py --epochs 3` does; `--` is what makes a command starting with '-' safe.
// torchrun's underscore spellings (--nproc_per_node, --node_rank, --master_addr, --master_port) are accepted, so
// a torchrun line can be reused by replacing `torchrun` with `accent launch` and `train.py` with `-- train`.
#include <memory>

#include "cli/flag_checks.h"
#include "cli/verb.h"
#include "dist/launcher.h"

namespace accent::cli {
namespace {

struct LaunchCliOptions {
  LaunchOptions launch;
  std::vector<std::string> command;  // the workers' arguments: everything after `--`
};

VerbRegistration reg{
    "launch", "Start the workers of a data-parallel job on this node, like torchrun (accent launch --nproc-per-node N -- train ...)",
    [](CLI::App& app) -> std::function<int()> {
      auto o = std::make_shared<LaunchCliOptions>();
      app.add_option("--nproc-per-node,--nproc_per_node", o->launch.nproc_per_node, "Workers to start on this node")
          ->required()->check(integer_in(1, 1 << 20));
      app.add_option("--nnodes", o->launch.nnodes, "Nodes in the job, one launcher each (WORLD_SIZE = nnodes × nproc)")
          ->capture_default_str()->check(integer_in(1, 1 << 20));
      app.add_option("--node-rank,--node_rank", o->launch.node_rank, "This node's index, 0 … nnodes−1")
          ->capture_default_str()->check(integer_in(0, 1 << 20));
      app.add_option("--master-addr,--master_addr", o->launch.master_addr,
                     "Address of the node that runs rank 0 (the rendezvous)")->capture_default_str();
      app.add_option("--master-port,--master_port", o->launch.master_port, "Port of the rendezvous on --master-addr")
          ->capture_default_str()->check(integer_in(1, 65535));
      app.add_option("--local-addr", o->launch.local_addr,
                     "Address this node's workers bind to (ACCENT_LOCAL_ADDR; default: --master-addr with one node, "
                     "else chosen by the workers). E.g. 127.0.0.2 and 127.0.0.3 simulate two nodes on one machine");
      app.add_option("--kill-grace-seconds", o->launch.kill_grace_seconds,
                     "After a worker fails (or on SIGINT/SIGTERM): seconds the others have to exit before SIGKILL")
          ->capture_default_str()->check(CLI::NonNegativeNumber);
      app.add_option("command", o->command, "The workers' command after `--`: an accent verb and its flags (train ...)");
      app.positionals_at_end();
      app.footer("Example: accent launch --nproc-per-node 2 -- train --model bert-base-uncased --data train.csv");
      return [o] { return launch_workers(o->launch, o->command); };
    }};

}  // namespace
}  // namespace accent::cli
