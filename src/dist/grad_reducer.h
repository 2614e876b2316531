// dist/grad_reducer.h — DistributedDataParallel's gradient averaging: buckets, reduced while backward runs.
//
// After the last micro-batch of an optimizer step, every rank holds Σ ∂loss_r/∂θ of its own examples; the step
// must use the mean over ranks, g = (1/W)·Σ_r g_r, so that W ranks × batch b take the same step as one process
// with batch W·b (each rank's loss is already a mean over its b examples, and the mean of W means of b equals the
// mean of W·b). Like torch DDP:
//   - trainable parameters are grouped into buckets of ~25 MB (bucket_cap_mb) in reverse parameter order, the
//     order in which backward finishes them (head first, embeddings last);
//   - the model reports each module whose gradients are final (set_grad_ready_hook); when a bucket's parameters
//     are all final it is handed to a communication thread, which packs it into one flat buffer, all-reduces it
//     (fp32 sum, or bf16 with --ddp-bf16-compress) and unpacks (1/W)·sum — while the compute threads go on with
//     the layers below;
//   - finish() reduces what no hook reported and waits for the last bucket; all ranks then hold bit-identical
//     gradients (ring all-reduce gives every rank the same sums), so clipping and AdamW keep the weights identical.
// Buckets go to the wire strictly in bucket order, so every rank issues the same collectives in the same order.
//
// GPU ranks (parameters in GPU memory, with an NcclCommunicator): the same buckets, packed, all-reduced over NCCL
// and unpacked by device copies queued on accent's CUDA stream from the hook itself — stream order puts each
// bucket's all-reduce after the kernels that computed it and before the clipping that reads it. No communication
// thread; bf16 compression is for Gloo runs only.
#pragma once
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "dist/nccl_communicator.h"
#include "dist/process_group.h"
#include "nn/parameter.h"
#include "ops/backend.h"

namespace accent {

struct GradReducerOptions {
  size_t bucket_bytes = size_t{25} << 20;  // DDP's bucket_cap_mb = 25
  bool bf16_compression = false;           // DDP's bf16_compress_hook
};

struct GradReducerStats {
  int64_t steps = 0;
  int64_t buckets = 0;
  double allreduce_seconds = 0;  // communication thread inside all-reduce (sum over steps)
  double wait_seconds = 0;       // trainer blocked in finish() after backward (the part not hidden by overlap)
  size_t bytes_per_step = 0;     // fp32 gradient bytes reduced per step
};

class GradReducer {
 public:
  // Host gradients: all-reduced over `group` (Gloo) on a communication thread. GPU gradients: pass `nccl` and the
  // model's op context (whose memory the gradients live in).
  GradReducer(ProcessGroup& group, const ParameterList& params, GradReducerOptions options = {},
              NcclCommunicator* nccl = nullptr, const OpContext& device_context = {});
  ~GradReducer();
  GradReducer(const GradReducer&) = delete;
  GradReducer& operator=(const GradReducer&) = delete;

  // Arms the reducer for the coming backward (the last micro-batch of a step; earlier micro-batches only
  // accumulate locally, as under DDP's no_sync()).
  void begin_step(int64_t step);
  // The model's hook: these parameters' gradients are final for this backward. Ignored when not armed.
  void grads_ready(const ParameterList& ready);
  // Reduces every bucket not yet handed over, waits for all, rethrows a communication error.
  void finish();

  const GradReducerStats& stats() const { return stats_; }
  size_t num_buckets() const { return buckets_.size(); }

 private:
  struct Bucket {
    std::vector<Parameter*> params;
    std::vector<size_t> offsets;  // of each parameter in the flat buffer
    size_t numel = 0;
    std::vector<float> flat;   // host path
    Tensor device_flat;        // GPU path: (numel) in the gradients' memory
    size_t pending = 0;  // parameters not yet reported final this step
    bool ready = false;
  };
  void mark_ready_locked(size_t bucket);
  void communication_loop();
  void reduce(Bucket& bucket);
  void reduce_on_device(Bucket& bucket);
  void send_ready_device_buckets_locked();

  ProcessGroup& group_;
  GradReducerOptions options_;
  NcclCommunicator* nccl_ = nullptr;
  OpContext device_context_;
  std::vector<Bucket> buckets_;
  struct Slot {
    size_t bucket;  // which bucket holds the parameter
    size_t index;   // its position in reported_
  };
  std::unordered_map<const Parameter*, Slot> slot_of_;  // trainable parameters only
  std::vector<char> reported_;  // per trainable parameter: reported final this step; cleared each step

  std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = false;
  bool stopping_ = false;
  size_t next_to_send_ = 0;   // communication thread: next bucket index
  size_t done_ = 0;           // buckets reduced this step
  std::exception_ptr error_;
  GradReducerStats stats_;
  std::thread comm_;
};

}  // namespace accent
