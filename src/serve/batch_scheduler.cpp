#include "serve/batch_scheduler.h"

#include <algorithm>

#include "core/error.h"

namespace accent {

BatchScheduler::BatchScheduler(RunBatch run, int64_t num_labels, BatchLimits limits, BatchObserver observer)
    : run_(std::move(run)), num_labels_(num_labels), limits_(limits), observer_(std::move(observer)) {
  ACCENT_CHECK(limits_.max_batch_tokens >= 1, "--max-batch-tokens must be at least 1, got ", limits_.max_batch_tokens);
  ACCENT_CHECK(limits_.max_batch_requests >= 0, "--max-batch-requests must be 0 (no limit) or more");
  thread_ = std::thread([this] { loop(); });
}

BatchScheduler::~BatchScheduler() { shutdown(); }

std::future<BatchScheduler::Result> BatchScheduler::submit(std::vector<EncodedExample> examples) {
  ACCENT_CHECK(!examples.empty(), "BatchScheduler::submit: a request needs at least one input");
  auto job = std::make_shared<Job>();
  job->examples = std::move(examples);
  job->rows_left = job->examples.size();
  job->logits.assign(job->examples.size() * static_cast<size_t>(num_labels_), 0.0f);
  job->submitted = Clock::now();
  std::future<Result> answer = job->promise.get_future();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    ACCENT_CHECK(!stopping_, "the server is shutting down");
    for (size_t i = 0; i < job->examples.size(); ++i) pending_.push_back({job, i});
  }
  wake_.notify_one();
  return answer;
}

void BatchScheduler::shutdown() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_one();
  if (thread_.joinable()) thread_.join();
}

int64_t BatchScheduler::queued_rows() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return static_cast<int64_t>(pending_.size());
}

int64_t bucketed_length(int64_t length, int64_t max_length) {
  int64_t bucket = 16;
  while (bucket < length) bucket *= 2;
  return std::max(length, std::min(bucket, max_length));
}

std::vector<PlannedBatch> BatchScheduler::plan_batches(const std::vector<int64_t>& lengths, const BatchLimits& limits) {
  std::vector<PlannedBatch> out;
  const bool buckets = limits.bucket_lengths_up_to > 0;
  size_t begin = 0;
  while (begin < lengths.size()) {
    // Sorted longest first, so the batch's padded length T comes from its first row: rows fit while (rows + 1) × T
    // stays within the token budget. The first row always runs, even alone over the budget.
    const int64_t T = buckets ? bucketed_length(lengths[begin], limits.bucket_lengths_up_to) : std::max<int64_t>(1, lengths[begin]);
    // A row joins only while padding at most doubles its cost (its length, or 16 for short rows, is over half of
    // T): with mixed traffic, 64 queued rows of which a few are long otherwise all ran at the longest's length.
    size_t end = begin + 1;
    while (end < lengths.size() && static_cast<int64_t>(end - begin + 1) * T <= limits.max_batch_tokens &&
           (limits.max_batch_requests == 0 || static_cast<int64_t>(end - begin) < limits.max_batch_requests) &&
           2 * std::max<int64_t>(lengths[end], 16) > T)
      ++end;
    if (buckets) {
      size_t rows = 1;
      while (rows * 2 <= end - begin) rows *= 2;  // the largest power of two that fits
      end = begin + rows;
    }
    out.push_back({begin, end, T});
    begin = end;
  }
  return out;
}

void BatchScheduler::loop() {
  for (;;) {
    std::vector<Row> rows;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !pending_.empty(); });
      if (pending_.empty()) return;  // stopping and nothing left to answer
      rows.assign(std::make_move_iterator(pending_.begin()), std::make_move_iterator(pending_.end()));
      pending_.clear();
    }
    std::stable_sort(rows.begin(), rows.end(), [](const Row& a, const Row& b) {
      return a.job->examples[a.index].length() > b.job->examples[b.index].length();
    });
    std::vector<int64_t> lengths(rows.size());
    for (size_t i = 0; i < rows.size(); ++i) lengths[i] = rows[i].job->examples[rows[i].index].length();
    for (const PlannedBatch& b : plan_batches(lengths, limits_))
      run_batch(std::vector<Row>(rows.begin() + static_cast<std::ptrdiff_t>(b.begin), rows.begin() + static_cast<std::ptrdiff_t>(b.end)),
                b.padded_length);
  }
}

void BatchScheduler::run_batch(const std::vector<Row>& rows, int64_t padded_length) {
  const auto start = Clock::now();
  std::vector<EncodedExample> examples;
  examples.reserve(rows.size());
  BatchRecord record;
  record.rows = static_cast<int64_t>(rows.size());
  for (const Row& r : rows) {
    examples.push_back(r.job->examples[r.index]);
    record.real_tokens += examples.back().length();
    if (!r.job->started) {
      r.job->started = true;
      r.job->result.queue_seconds = std::chrono::duration<double>(start - r.job->submitted).count();
    }
  }
  record.padded_tokens = record.rows * padded_length;
  std::vector<float> logits;
  std::exception_ptr error;
  try {
    logits = run_(examples, padded_length);
    ACCENT_CHECK(logits.size() == examples.size() * static_cast<size_t>(num_labels_), "the model returned ",
                 logits.size(), " logits for ", examples.size(), " inputs of ", num_labels_, " labels");
  } catch (...) {
    error = std::current_exception();
  }
  record.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (observer_) observer_(record);
  const size_t C = static_cast<size_t>(num_labels_);
  std::vector<Job*> seen;
  for (size_t b = 0; b < rows.size(); ++b) {
    Job& job = *rows[b].job;
    if (std::find(seen.begin(), seen.end(), &job) == seen.end()) {
      seen.push_back(&job);
      job.result.inference_seconds += record.seconds;
    }
    if (error) {
      if (!job.error) job.error = error;
    } else {
      std::copy(logits.begin() + static_cast<std::ptrdiff_t>(b * C), logits.begin() + static_cast<std::ptrdiff_t>((b + 1) * C),
                job.logits.begin() + static_cast<std::ptrdiff_t>(rows[b].index * C));
    }
    if (--job.rows_left == 0) {
      if (job.error) {
        job.promise.set_exception(job.error);
      } else {
        job.result.logits = std::move(job.logits);
        job.promise.set_value(std::move(job.result));
      }
    }
  }
}

}  // namespace accent
