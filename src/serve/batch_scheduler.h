// serve/batch_scheduler.h — dynamic batching: requests arrive tokenized from many threads; one thread runs them.
//
// Each submitted request is a list of encoded inputs (rows). The batching thread takes every row queued so far,
// sorts them by length (longest first, stable), and cuts them into forward passes bounded by max_batch_tokens
// padded tokens — rows × the longest row, which is what the padded (B, T) batch costs — and by max_batch_requests
// rows when set; a row whose length (counted as at least 16) is at most half the pass's padded length starts the
// next pass instead, so padding never more than doubles a row's cost. A row longer than the budget runs alone. Each row's logits are copied back to its request; a
// request is answered once all of its rows are done, so its result depends only on its own rows (padding is
// masked). A failed forward pass fails every request with a row in it (the error is rethrown by the future).
//
// Shape buckets (bucket_lengths_up_to > 0): the CPU matmuls (oneDNN) build and cache a kernel per shape, and
// building one costs far more than running a small one; with a padded length and a row count that differ in every
// batch, the server built kernels all the time (a tiny model: 35 ms a pass instead of 0.4 ms). So a batch's padded
// length is rounded up to a power of two (16, 32, 64, ...; never past the model's positions) and its row count
// down to a power of two: 6 × 7 shapes for 512 positions and up to 64-row batches, about 7 matmul kernels each,
// within the matmul cache's 512 (ops/matmul_cpu.cpp; by the same count, finer length buckets with 1.5·2^k too
// would pass it, and the cache then empties itself). Extra padding is masked, so a row's logits stay its own (the
// tests find them bit-identical in fp32).
#pragma once
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "data/batcher.h"

namespace accent {

struct BatchLimits {
  int64_t max_batch_tokens = 16384;  // padded tokens per forward pass (TEI's --max-batch-tokens)
  int64_t max_batch_requests = 0;    // rows per forward pass; 0 = bounded by tokens only
  int64_t bucket_lengths_up_to = 0;  // > 0: shape buckets, lengths capped at this (the model's positions); 0 = off
};

// The padded length of a batch whose longest row is `length`: the smallest power of two >= max(length, 16), at
// most `max_length` (and never below `length`).
int64_t bucketed_length(int64_t length, int64_t max_length);

// One forward pass of a plan: rows [begin, end) of the sorted list, padded to `padded_length`.
struct PlannedBatch {
  size_t begin = 0, end = 0;
  int64_t padded_length = 0;
  bool operator==(const PlannedBatch&) const = default;
};

// What one forward pass was, for the metrics.
struct BatchRecord {
  int64_t rows = 0;
  int64_t padded_tokens = 0;  // rows × longest row
  int64_t real_tokens = 0;    // Σ row lengths
  double seconds = 0;         // the forward pass
};

class BatchScheduler {
 public:
  // Logits (N, C) row-major of `examples` in order, padded to `padded_length`; throws when inference fails.
  using RunBatch = std::function<std::vector<float>(const std::vector<EncodedExample>& examples, int64_t padded_length)>;
  using BatchObserver = std::function<void(const BatchRecord&)>;

  struct Result {
    std::vector<float> logits;   // (N, C) in the request's input order
    double queue_seconds = 0;    // submit → the request's first forward pass starts
    double inference_seconds = 0;  // Σ forward passes holding its rows
  };

  BatchScheduler(RunBatch run, int64_t num_labels, BatchLimits limits, BatchObserver observer = {});
  ~BatchScheduler();  // shutdown()
  BatchScheduler(const BatchScheduler&) = delete;
  BatchScheduler& operator=(const BatchScheduler&) = delete;

  // Queues one request (at least one row). Throws accent::Error after shutdown().
  std::future<Result> submit(std::vector<EncodedExample> examples);
  // Runs everything already queued, then stops the batching thread. Idempotent.
  void shutdown();
  int64_t queued_rows() const;
  const BatchLimits& limits() const { return limits_; }

  // The forward passes `lengths` (already sorted longest first) are cut into under `limits`.
  static std::vector<PlannedBatch> plan_batches(const std::vector<int64_t>& lengths, const BatchLimits& limits);

 private:
  using Clock = std::chrono::steady_clock;
  struct Job {
    std::vector<EncodedExample> examples;
    std::vector<float> logits;  // (N, C)
    size_t rows_left = 0;
    std::exception_ptr error;
    Clock::time_point submitted;
    bool started = false;
    Result result;
    std::promise<Result> promise;
  };
  struct Row {
    std::shared_ptr<Job> job;
    size_t index;  // into job->examples
  };

  void loop();
  void run_batch(const std::vector<Row>& rows, int64_t padded_length);

  RunBatch run_;
  int64_t num_labels_;
  BatchLimits limits_;
  BatchObserver observer_;
  mutable std::mutex mutex_;
  std::condition_variable wake_;
  std::deque<Row> pending_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace accent
