// dist/distributed_env.h — who this process is in a data-parallel job, read from torchrun's environment.
//
// torchrun (and `accent launch`, Slurm or Kubernetes job templates that mimic it) start one process per worker
// and tell each its place through environment variables:
//   RANK              this process's index in the whole job, 0 … WORLD_SIZE−1 (rank 0 writes files and logs)
//   LOCAL_RANK        its index on this machine, 0 … LOCAL_WORLD_SIZE−1
//   WORLD_SIZE        processes in the job
//   LOCAL_WORLD_SIZE  processes on this machine (compute threads default to cores / LOCAL_WORLD_SIZE)
//   MASTER_ADDR, MASTER_PORT   where rank 0 listens for the rendezvous (dist/tcp_store.h)
// and accent's own ACCENT_LOCAL_ADDR: the address this node's workers bind their Gloo connections to (default:
// MASTER_ADDR when it is a loopback address, else the machine's host name, as Gloo does) — `accent launch
// --local-addr` sets it, e.g. to simulate two nodes on 127.0.0.2 and 127.0.0.3 of one machine.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

namespace accent {

struct DistributedEnv {
  int rank = 0;
  int local_rank = 0;
  int world_size = 1;
  int local_world_size = 1;
  std::string master_addr = "127.0.0.1";
  int master_port = 29500;
  std::string local_addr;  // "" = choose (see above)

  bool is_world_process_zero() const { return rank == 0; }
  bool is_local_process_zero() const { return local_rank == 0; }
};

// Reads the variables through `getenv` (std::getenv by default; tests pass a map). Returns nullopt when WORLD_SIZE
// is unset (a plain single-process run). Throws accent::Error naming the variable when one is malformed, missing
// beside WORLD_SIZE, or inconsistent (RANK ≥ WORLD_SIZE, LOCAL_RANK ≥ LOCAL_WORLD_SIZE, a port outside 1…65535).
std::optional<DistributedEnv> distributed_env_from_environment(
    const std::function<const char*(const char*)>& getenv = nullptr);

// The address this process binds its collective connections to (see the top of this file).
std::string resolve_local_addr(const DistributedEnv& env);

}  // namespace accent
