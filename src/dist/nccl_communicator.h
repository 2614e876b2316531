// dist/nccl_communicator.h — the gradient all-reduce of GPU ranks, over NCCL (the CUDA toolkit's collectives).
//
// Data-parallel training on GPUs uses the same machinery as on CPU processes (dist/process_group.h for the
// rendezvous and the small control collectives: start-up checks, loss, evaluation outputs) and the same bucketing
// (dist/grad_reducer.h); only the gradient buckets, which live in GPU memory, travel through NCCL instead of Gloo:
// rank 0 makes NCCL's unique id, the Gloo group hands it to every rank, and each rank joins the NCCL communicator.
// Each all-reduce is queued on accent's CUDA stream (ops/cuda), in stream order with the backward kernels that
// produced the bucket and the clipping that reads it, so no host synchronisation is needed per bucket.
//
// libnccl.so.2 is opened with dlopen on first use, as cuBLASLt is: the program still starts on machines without
// it. Built only with the CUDA backend (ACCENT_WITH_CUDA); elsewhere constructing one throws saying so.
// One GPU per rank: `accent train` picks GPU LOCAL_RANK (cli/main.cpp sets CUDA_VISIBLE_DEVICES accordingly).
#pragma once
#include <cstddef>
#include <memory>

#include "dist/process_group.h"

namespace accent {

class NcclCommunicator {
 public:
  // Collective over `group`'s ranks (every rank constructs one at the same point). Throws accent::Error when this
  // build has no CUDA backend, libnccl cannot be opened, or NCCL fails to initialise.
  explicit NcclCommunicator(ProcessGroup& group);
  ~NcclCommunicator();
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  // data (n fp32 values in GPU memory) ← Σ over ranks, queued on accent's CUDA stream (returns before it ran).
  void allreduce_sum(float* data, size_t n);
  // Throws accent::Error when NCCL reported an asynchronous error (a peer failed), naming it.
  void check_errors();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accent
