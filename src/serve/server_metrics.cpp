#include "serve/server_metrics.h"

#include <algorithm>
#include <cstdio>

namespace accent {
namespace {

// Prometheus floats: shortest round-trip form is not needed; %.9g keeps seconds to the nanosecond.
std::string number(double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.9g", v);
  return buf;
}

std::vector<double> duration_buckets() {  // seconds: 1 ms … 60 s
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60};
}

std::vector<double> powers_of_two(double first, double last) {
  std::vector<double> out;
  for (double v = first; v <= last; v *= 2) out.push_back(v);
  return out;
}

void header(std::string& out, const std::string& name, const std::string& help, const char* type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " " + type + "\n";
}

}  // namespace

Histogram::Histogram(std::vector<double> upper_bounds)
    : upper_bounds_(std::move(upper_bounds)), counts_(upper_bounds_.size() + 1, 0) {}

void Histogram::observe(double value) {
  const size_t i = static_cast<size_t>(std::lower_bound(upper_bounds_.begin(), upper_bounds_.end(), value) - upper_bounds_.begin());
  ++counts_[i];
  sum_ += value;
  ++count_;
}

void Histogram::render(std::string& out, const std::string& name, const std::string& help) const {
  header(out, name, help, "histogram");
  uint64_t cumulative = 0;
  for (size_t i = 0; i < upper_bounds_.size(); ++i) {
    cumulative += counts_[i];
    out += name + "_bucket{le=\"" + number(upper_bounds_[i]) + "\"} " + std::to_string(cumulative) + "\n";
  }
  out += name + "_bucket{le=\"+Inf\"} " + std::to_string(count_) + "\n";
  out += name + "_sum " + number(sum_) + "\n" + name + "_count " + std::to_string(count_) + "\n";
}

ServerMetrics::ServerMetrics()
    : request_duration_(duration_buckets()),
      tokenization_duration_(duration_buckets()),
      queue_duration_(duration_buckets()),
      inference_duration_(duration_buckets()),
      batch_size_(powers_of_two(1, 1024)),
      batch_tokens_(powers_of_two(16, 65536)) {}

void ServerMetrics::count_response(const std::string& route, int status) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++responses_[{route, status}];
}

void ServerMetrics::record_success(int64_t inputs, double total_seconds, double tokenization_seconds,
                                   double queue_seconds, double inference_seconds) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++successes_;
  inputs_ += static_cast<uint64_t>(inputs);
  request_duration_.observe(total_seconds);
  tokenization_duration_.observe(tokenization_seconds);
  queue_duration_.observe(queue_seconds);
  inference_duration_.observe(inference_seconds);
}

void ServerMetrics::record_batch(const BatchRecord& batch) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++batches_;
  real_tokens_ += static_cast<uint64_t>(batch.real_tokens);
  inference_seconds_ += batch.seconds;
  batch_size_.observe(static_cast<double>(batch.rows));
  batch_tokens_.observe(static_cast<double>(batch.padded_tokens));
}

std::string ServerMetrics::render(int64_t queued_rows, int64_t in_flight) const {
  std::lock_guard<std::mutex> lock(mutex_);
  std::string out;
  header(out, "te_http_requests_total", "HTTP responses by route and status code", "counter");
  for (const auto& [key, n] : responses_)
    out += "te_http_requests_total{route=\"" + key.first + "\",status=\"" + std::to_string(key.second) + "\"} " +
           std::to_string(n) + "\n";
  uint64_t classify_requests = 0;
  for (const auto& [key, n] : responses_)
    if (key.first == "/predict" || key.first == "/") classify_requests += n;
  header(out, "te_request_count", "Classify requests answered (/predict and /), any status", "counter");
  out += "te_request_count " + std::to_string(classify_requests) + "\n";
  header(out, "te_request_success", "Classify requests answered with 200", "counter");
  out += "te_request_success " + std::to_string(successes_) + "\n";
  header(out, "te_request_inputs_total", "Inputs classified by successful requests", "counter");
  out += "te_request_inputs_total " + std::to_string(inputs_) + "\n";
  header(out, "te_queue_size", "Inputs tokenized and waiting for a forward pass", "gauge");
  out += "te_queue_size " + std::to_string(queued_rows) + "\n";
  header(out, "te_requests_in_flight", "Classify requests being read, queued or run", "gauge");
  out += "te_requests_in_flight " + std::to_string(in_flight) + "\n";
  header(out, "te_batch_count", "Forward passes run", "counter");
  out += "te_batch_count " + std::to_string(batches_) + "\n";
  header(out, "te_inference_tokens_total", "Real (unpadded) tokens run through the model", "counter");
  out += "te_inference_tokens_total " + std::to_string(real_tokens_) + "\n";
  header(out, "te_inference_seconds_total", "Time spent in forward passes", "counter");
  out += "te_inference_seconds_total " + number(inference_seconds_) + "\n";
  header(out, "te_tokens_per_second", "Real tokens per second of forward-pass time, since start", "gauge");
  out += "te_tokens_per_second " + number(inference_seconds_ > 0 ? static_cast<double>(real_tokens_) / inference_seconds_ : 0.0) + "\n";
  request_duration_.render(out, "te_request_duration", "Classify request time, body read to response (seconds)");
  tokenization_duration_.render(out, "te_request_tokenization_duration", "Tokenization time per request (seconds)");
  queue_duration_.render(out, "te_request_queue_duration", "Time a request waited for its first forward pass (seconds)");
  inference_duration_.render(out, "te_request_inference_duration", "Forward-pass time holding a request's inputs (seconds)");
  batch_size_.render(out, "te_batch_size", "Inputs per forward pass");
  batch_tokens_.render(out, "te_batch_tokens", "Padded tokens (inputs x longest) per forward pass");
  return out;
}

}  // namespace accent
