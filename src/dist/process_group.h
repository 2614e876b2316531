// dist/process_group.h — the collectives data-parallel training uses, over Gloo (CPU processes, TCP).
//
// One ProcessGroup per process, made from torchrun's environment (dist/distributed_env.h): rank 0 hosts the
// rendezvous store (dist/tcp_store.h), every rank opens a Gloo TCP device on its local address, and Gloo connects
// the full mesh through the store. Collectives are Gloo's own algorithms (ring all-reduce: each rank sends and
// receives 2·(W−1)/W of the buffer, and every rank ends with bit-identical sums).
//
// Calls are collective: every rank makes the same calls in the same order (the group serialises them under one
// lock, so a background thread — the gradient reducer — and the trainer never interleave on one rank).
//
// Faults: every call has the group's timeout (--ddp-timeout). When a peer dies its TCP connections close and the
// survivors' next call fails at once; when a peer hangs the call fails after the timeout. Either way the error
// names the rank(s): the store knows which connection closed without a goodbye, and each rank records its last
// step (mark_progress) so a hang names the ranks that are behind.
#pragma once
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "dist/distributed_env.h"

namespace gloo {
class Context;
}

namespace accent {

class TcpStore;

class ProcessGroup {
 public:
  // Rendezvous and connection of all ranks (blocks until every rank has arrived, or throws after `timeout`).
  ProcessGroup(const DistributedEnv& env, std::chrono::milliseconds timeout);
  // A clean exit: waits for every rank (so rank 0's store outlives the others' use of it), then says goodbye.
  // After a failed collective, or while an exception unwinds, it only closes.
  ~ProcessGroup();
  ProcessGroup(const ProcessGroup&) = delete;
  ProcessGroup& operator=(const ProcessGroup&) = delete;

  int rank() const { return env_.rank; }
  int world_size() const { return env_.world_size; }
  const DistributedEnv& env() const { return env_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

  // data (n) ← Σ over ranks, fp32, in place.
  void allreduce_sum(float* data, size_t n, const char* what);
  void allreduce_sum(double* data, size_t n, const char* what);
  // The same, with each hop's partial sums rounded to bf16 (half the bytes; like DDP's bf16_compress_hook).
  // data is fp32 in and out; the rounding error is that of bf16 (≈ 2⁻⁸ relative per hop).
  void allreduce_sum_bf16(float* data, size_t n, const char* what);
  // Largest value over ranks.
  int64_t allreduce_max(int64_t value, const char* what);
  // Every rank's bytes, indexed by rank (ranks may send different lengths).
  std::vector<std::vector<char>> allgather(const std::vector<char>& mine, const char* what);
  void barrier(const char* what);

  // Records this rank's progress (e.g. the optimizer step it is about to reduce) in the store, for the message
  // of a later timeout.
  void mark_progress(int64_t step);

 private:
  // Runs one Gloo collective; on failure throws accent::Error naming the lost or lagging ranks.
  template <typename F>
  void run(const char* what, F&& collective);
  // c[i] = reduce(a[i], b[i]) over n elements (Gloo's reduce function signature).
  using ReduceFunction = void (*)(void* c, const void* a, const void* b, size_t n);
  template <typename T>
  void allreduce(T* data, size_t n, ReduceFunction reduce, const char* what);
  [[noreturn]] void fail_collective(const char* what, const std::string& gloo_message);

  DistributedEnv env_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<TcpStore> store_;
  std::shared_ptr<gloo::Context> context_;
  std::mutex mu_;
  uint32_t next_tag_ = 1;
  int64_t progress_ = -1;
  bool failed_ = false;
};

}  // namespace accent
