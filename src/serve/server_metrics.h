// serve/server_metrics.h — what GET /metrics reports, in Prometheus' text exposition format (version 0.0.4).
//
// Names follow TEI's where TEI has one (te_request_duration, te_queue_size, ...; spec/serving.md); durations are
// in seconds. A histogram is cumulative: bucket le="x" counts observations <= x, le="+Inf" all of them, plus _sum
// and _count. All members are thread-safe.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "serve/batch_scheduler.h"

namespace accent {

class Histogram {
 public:
  explicit Histogram(std::vector<double> upper_bounds);
  void observe(double value);
  // # TYPE name histogram, then the buckets, _sum and _count.
  void render(std::string& out, const std::string& name, const std::string& help) const;

 private:
  std::vector<double> upper_bounds_;
  std::vector<uint64_t> counts_;  // per bucket (not cumulative); the last is +Inf
  double sum_ = 0;
  uint64_t count_ = 0;
};

class ServerMetrics {
 public:
  ServerMetrics();

  // One answered HTTP request: its route ("/predict", "/", "/health", ..., "other") and status code.
  void count_response(const std::string& route, int status);
  // A classify request that succeeded: its inputs and timings.
  void record_success(int64_t inputs, double total_seconds, double tokenization_seconds, double queue_seconds,
                      double inference_seconds);
  void record_batch(const BatchRecord& batch);
  // The exposition text; `queued_rows` and `in_flight` are sampled by the caller.
  std::string render(int64_t queued_rows, int64_t in_flight) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, uint64_t> responses_;  // (route, status) → count
  uint64_t successes_ = 0, inputs_ = 0;
  uint64_t batches_ = 0;
  uint64_t real_tokens_ = 0;
  double inference_seconds_ = 0;
  Histogram request_duration_, tokenization_duration_, queue_duration_, inference_duration_;
  Histogram batch_size_, batch_tokens_;
};

}  // namespace accent
