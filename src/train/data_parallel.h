// train/data_parallel.h — what the trainer does differently when it is one rank of a data-parallel job.
//
// A run is data-parallel when it is given a ProcessGroup (dist/process_group.h) of W ≥ 1 ranks — `accent train`
// makes one from torchrun's environment (RANK, WORLD_SIZE, MASTER_ADDR, ...). Then, as Hugging Face's Trainer
// under torchrun (DistributedDataParallel):
//   - each rank trains on its shard of every step (train/sharded_train_source.h), so the global batch is
//     per_device_train_batch_size × W × gradient_accumulation_steps, and the schedule counts per-rank batches;
//   - gradients are averaged over the ranks in ~25 MB buckets while backward runs (dist/grad_reducer.h), so every
//     rank takes the same AdamW step and the weights stay identical;
//   - dropout draws each rank's rows of the one stream a single process would draw for the whole step (core/rng.h,
//     Sharding): W ranks × batch b give the weights of 1 process × batch W·b, up to the order of the fp32 sums;
//   - the logged loss is the mean over ranks (HF gathers it the same way); evaluation splits the batches over the
//     ranks and gathers the logits, so every rank computes the exact single-process metrics;
//   - rank 0 alone writes checkpoints, logs, the progress bar and the final model; a checkpoint is complete before
//     any rank goes on (barrier), and resuming needs the same world size (the checkpoint's step position is a
//     per-rank batch index);
//   - at start-up the ranks compare their arguments, data and initial weights and stop with the differing ranks
//     named, rather than train on silently different things.
#pragma once
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "dist/grad_reducer.h"
#include "dist/process_group.h"
#include "nn/parameter.h"

namespace accent {

struct DataParallel {
  ProcessGroup* group = nullptr;  // null = an ordinary single-process run (a world of 1 still goes through it all)
  NcclCommunicator* nccl = nullptr;  // GPU ranks: the gradient all-reduce over NCCL
  GradReducerOptions reducer;

  bool active() const { return group != nullptr; }
  int rank() const { return group ? group->rank() : 0; }
  int world_size() const { return group ? group->world_size() : 1; }
  bool is_world_process_zero() const { return rank() == 0; }
};

// The process group of this process's data-parallel job, from torchrun's environment (dist/distributed_env.h):
// null when WORLD_SIZE is unset (a plain run). A world of 1 (torchrun --nproc-per-node 1) is a job too: it runs the
// data-parallel path with nobody to talk to. Blocks until every rank has joined (at most `timeout`).
std::unique_ptr<ProcessGroup> join_data_parallel_job(std::chrono::milliseconds timeout);

// HF's main_process_first: runs `work` on the first process of each machine, then (after a barrier) on the others —
// for work that fills a shared cache (a hub download). Without a group, just runs it.
void local_main_process_first(ProcessGroup* group, const std::function<void()>& work);

// FNV-1a over every parameter's name, shape and values.
uint64_t parameter_fingerprint(const ParameterList& params);

// Start-up check: `mine` maps what must agree ("training arguments", "training data", "initial weights", ...) to a
// JSON value; every rank sends its own and all compare with rank 0's. Throws accent::Error listing each rank and
// what differs (for objects, the differing keys) — on every rank, so they all stop.
void check_ranks_agree(ProcessGroup& group, const nlohmann::json& mine);

// Makes every rank's parameter values rank 0's (an all-reduce in which the other ranks contribute zeros: x + 0 = x
// exactly). Used after load_best_model_at_end, where rank 0's checkpoint holds the best weights.
void broadcast_parameters_from_rank0(ProcessGroup& group, const ParameterList& params);

}  // namespace accent
