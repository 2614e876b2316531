#include "serve/classification_server.h"

#include <netinet/in.h>
#include <omp.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <chrono>
#include <thread>

#include "core/error.h"
#include "serve/api_error.h"
#include "serve/bounded_socket_stream.h"
#include "serve/classify_request.h"
#include "serve/connection_threads.h"
#include "serve/server_metrics.h"

namespace accent {
namespace {

using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// Set by a handler on its connection's thread: close the connection after this response (the request's body was
// not read, so the bytes that follow are not the next request).
thread_local bool* tls_close_after_response = nullptr;

void close_connection_after_response() {
  if (tls_close_after_response) *tls_close_after_response = true;
}

// httplib::Server with accent's connection loop: bounded reads (BoundedSocketStream), TCP_NODELAY, keep-alive
// connections that end when the server stops, and a lingering close after a refused body.
class ConnectionServer : public httplib::Server {
 public:
  ConnectionServer(StreamLimits limits, std::chrono::seconds keep_alive, const std::atomic<bool>& stopping)
      : limits_(limits), keep_alive_(keep_alive), stopping_(stopping) {}

 private:
  bool process_and_close_socket(int sock) override {
    // Without TCP_NODELAY a response written in two segments waits for the client's delayed ACK (~40–90 ms).
    const int one = 1;
    ::setsockopt(sock, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    BoundedSocketStream stream(sock, limits_);
    bool close_after = false;
    tls_close_after_response = &close_after;
    bool ok = true;
    for (;;) {
      // The next request: wait in short steps so an idle connection ends soon after stop().
      const auto until = Clock::now() + keep_alive_;
      bool ready = stream.wait_readable(std::chrono::milliseconds(0));
      while (!ready && !stopping_.load() && Clock::now() < until)
        ready = stream.wait_readable(std::chrono::milliseconds(50));
      if (!ready) break;
      stream.start_request();
      bool connection_closed = false;
      const bool last = stopping_.load();
      ok = process_request(stream, last, connection_closed, [](httplib::Request&) {});
      if (!ok || connection_closed || close_after || last) break;
    }
    tls_close_after_response = nullptr;
    ::shutdown(sock, SHUT_WR);
    if (close_after) {
      // Lingering close: the client may still be sending the body we refused. Closing with unread bytes sends a
      // reset, which can destroy our response before the client reads it; so read and discard for a while
      // (bounded in time and bytes) until the client closes its side.
      char sink[4096];
      const auto until = Clock::now() + std::chrono::seconds(2);
      size_t drained = 0;
      while (Clock::now() < until && drained < (64u << 20) && stream.wait_readable(std::chrono::milliseconds(100))) {
        const ssize_t n = ::recv(sock, sink, sizeof sink, 0);
        if (n <= 0) break;
        drained += static_cast<size_t>(n);
      }
    }
    ::close(sock);
    return ok;
  }

  StreamLimits limits_;
  std::chrono::seconds keep_alive_;
  const std::atomic<bool>& stopping_;
};

// Counts a classify request in flight for as long as it lives.
struct InFlight {
  std::atomic<int64_t>& count;
  int64_t now;
  explicit InFlight(std::atomic<int64_t>& c) : count(c), now(++c) {}
  ~InFlight() { --count; }
};

std::string route_of(const std::string& path) {
  for (const char* r : {"/predict", "/", "/health", "/info", "/metrics"})
    if (path == r) return r;
  return "other";
}

void reply_error(httplib::Response& res, const ApiError& e) {
  res.status = e.status();
  res.set_content(e.body().dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
}

}  // namespace

struct ClassificationServer::Impl {
  TextClassificationPipeline& pipeline;
  ServeOptions options;
  ServerMetrics metrics;
  std::atomic<bool> stopping{false};
  std::atomic<bool> running{false};
  std::atomic<int64_t> in_flight{0};
  std::unique_ptr<BatchScheduler> scheduler;
  std::unique_ptr<ConnectionServer> http;
  EncodedExample health_probe;
  int port = -1;
  int listen_socket = -1;  // the last socket httplib created to listen on (seen through its socket_options hook)

  Impl(TextClassificationPipeline& p, ServeOptions o) : pipeline(p), options(std::move(o)) {
    StreamLimits limits;
    limits.max_request_bytes = options.payload_limit + 65536;  // the body plus a generous request head
    limits.read_timeout = std::chrono::seconds(options.read_timeout_seconds);
    limits.write_timeout = std::chrono::seconds(options.read_timeout_seconds);
    limits.request_deadline = std::chrono::seconds(options.request_timeout_seconds);
    http = std::make_unique<ConnectionServer>(limits, std::chrono::seconds(options.keep_alive_seconds), stopping);
    const size_t max_threads = static_cast<size_t>(std::max<int64_t>(1, options.max_concurrent_requests)) + 16;
    http->new_task_queue = [max_threads] { return new ConnectionThreads(max_threads); };
    // OpenMP's thread count (--threads) is per thread: the batching thread would start with every CPU's worth
    // of threads, not the count the program chose. With more threads than free cores, every barrier of the
    // forward pass waited for a descheduled thread (170 ms instead of 0.4 ms a pass for a tiny model).
    const int compute_threads = omp_get_max_threads();
    scheduler = std::make_unique<BatchScheduler>(
        [this, compute_threads](const std::vector<EncodedExample>& examples, int64_t padded_length) {
          omp_set_num_threads(compute_threads);
          return pipeline.logits_of_encoded(examples, static_cast<int64_t>(examples.size()), 0, padded_length);
        },
        pipeline.config().num_labels(), batch_limits(), [this](const BatchRecord& b) { metrics.record_batch(b); });
    PipelineOptions probe;
    probe.truncation = true;
    health_probe = pipeline.encode({"health check", std::nullopt}, probe, 0);
    // One forward pass before the port opens, so the first client does not pay for the one-time set-up.
    // A model that fails it still serves: /health says 503 and each request 424, as TEI does.
    try {
      scheduler->submit({health_probe}).get();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "warning: the first forward pass failed (GET /health will answer 503): %s\n", e.what());
    }
    routes();
  }

  BatchLimits batch_limits() const {
    BatchLimits limits = options.batch;
    if (options.shape_buckets) limits.bucket_lengths_up_to = pipeline.max_input_tokens();
    return limits;
  }

  // The body, at most payload_limit bytes: a larger Content-Length is refused unread; a chunked (or compressed)
  // body is read until it passes the limit.
  std::string read_body(const httplib::Request& req, const httplib::ContentReader& reader) {
    const std::string limit = std::to_string(options.payload_limit);
    if (req.has_header("Content-Length")) {
      const std::string value = req.get_header_value("Content-Length");
      size_t used = 0;
      unsigned long long length = 0;
      try {
        length = std::stoull(value, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != value.size()) throw ApiError(400, "Validation", "Content-Length '" + value + "' is not a number");
      if (length > options.payload_limit)
        throw ApiError(413, "Validation", "the body is " + std::to_string(length) + " bytes, over the payload limit of " + limit + " bytes");
    } else if (req.get_header_value("Transfer-Encoding").find("chunked") == std::string::npos) {
      return "";  // no body (HTTP/1.1: neither a length nor chunks)
    }
    std::string body;
    bool over = false;
    const bool read = reader([&](const char* data, size_t n) {
      if (body.size() + n > options.payload_limit) {
        over = true;
        return false;
      }
      body.append(data, n);
      return true;
    });
    if (over) throw ApiError(413, "Validation", "the body is over the payload limit of " + limit + " bytes");
    if (!read) throw ApiError(400, "Validation", "the request body could not be read (cut short, malformed or too slow)");
    return body;
  }

  void classify(const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader,
                ClassifyRequest (*parse)(const json&)) {
    const auto start = Clock::now();
    InFlight flight(in_flight);
    bool body_read = false;
    try {
      if (flight.now > options.max_concurrent_requests)
        throw ApiError(429, "Overloaded", "Model is overloaded: " + std::to_string(options.max_concurrent_requests) +
                                              " requests are in flight (--max-concurrent-requests)");
      const std::string body = read_body(req, reader);
      body_read = true;
      const ClassifyRequest request = parse(parse_request_json(body));
      const int64_t n = static_cast<int64_t>(request.inputs.size());
      if (n > options.max_client_batch_size)
        throw ApiError(413, "Validation", "batch size " + std::to_string(n) + " > maximum allowed batch size " +
                                              std::to_string(options.max_client_batch_size));
      PipelineOptions encode;
      encode.truncation = request.truncate || options.auto_truncate;
      encode.truncation_side = request.truncation_side;
      encode.truncation_advice = "send \"truncate\": true to cut it";
      std::vector<EncodedExample> examples;
      examples.reserve(request.inputs.size());
      const auto tokenize_start = Clock::now();
      for (int64_t i = 0; i < n; ++i) {
        try {
          examples.push_back(pipeline.encode(request.inputs[static_cast<size_t>(i)], encode, i));
        } catch (const Error& e) {
          throw ApiError(422, "Validation", e.what());
        }
      }
      const double tokenize_seconds = seconds_since(tokenize_start);
      std::future<BatchScheduler::Result> answer;
      try {
        answer = scheduler->submit(std::move(examples));
      } catch (const Error& e) {
        throw ApiError(503, "Unhealthy", e.what());
      }
      BatchScheduler::Result result;
      try {
        result = answer.get();
      } catch (const std::exception& e) {
        throw ApiError(424, "Backend", std::string("inference failed: ") + e.what());
      }
      const ModelConfig& cfg = pipeline.config();
      const int64_t C = cfg.num_labels();
      const FunctionToApply fn = resolve_function_to_apply(request.function_to_apply, cfg.problem_type, C);
      std::vector<std::vector<LabelScore>> scores;
      scores.reserve(static_cast<size_t>(n));
      for (int64_t i = 0; i < n; ++i)
        scores.push_back(classify_logits(result.logits.data() + i * C, C, cfg.id2label, fn, request.top_k));
      res.set_content(classify_response(request, scores).dump(-1, ' ', false, json::error_handler_t::replace),
                      "application/json");
      const double total = seconds_since(start);
      res.set_header("x-compute-type", backend_name(default_backend()));
      res.set_header("x-compute-time", std::to_string(total * 1e3));
      res.set_header("x-tokenization-time", std::to_string(tokenize_seconds * 1e3));
      res.set_header("x-queue-time", std::to_string(result.queue_seconds * 1e3));
      res.set_header("x-inference-time", std::to_string(result.inference_seconds * 1e3));
      metrics.record_success(n, total, tokenize_seconds, result.queue_seconds, result.inference_seconds);
    } catch (const ApiError& e) {
      if (!body_read) close_connection_after_response();
      reply_error(res, e);
    } catch (const std::exception& e) {
      if (!body_read) close_connection_after_response();
      reply_error(res, ApiError(424, "Backend", e.what()));
    }
  }

  void health(httplib::Response& res) {
    try {
      auto answer = scheduler->submit({health_probe});
      if (answer.wait_for(std::chrono::seconds(30)) != std::future_status::ready)
        throw std::runtime_error("a forward pass took over 30 s");
      answer.get();
      res.status = 200;
    } catch (const std::exception& e) {
      reply_error(res, ApiError(503, "Unhealthy", std::string("unhealthy: ") + e.what()));
    }
  }

  json info() const {
    const ModelConfig& cfg = pipeline.config();
    json id2label = json::object(), label2id = json::object();
    for (int64_t i = 0; i < cfg.num_labels(); ++i) {
      auto it = cfg.id2label.find(i);
      const std::string name = it != cfg.id2label.end() ? it->second : "LABEL_" + std::to_string(i);
      id2label[std::to_string(i)] = name;
      label2id[name] = i;
    }
    json j;
    j["model_id"] = options.model_id;
    j["model_sha"] = nullptr;
    j["model_dtype"] = default_precision() == Precision::BF16 ? "bfloat16" : "float32";
    j["model_type"] = {{"classifier", {{"id2label", id2label}, {"label2id", label2id}}}};
    j["architecture"] = cfg.model_type;
    j["max_concurrent_requests"] = options.max_concurrent_requests;
    j["max_input_length"] = pipeline.max_input_tokens();
    j["max_batch_tokens"] = options.batch.max_batch_tokens;
    j["max_batch_requests"] = options.batch.max_batch_requests > 0 ? json(options.batch.max_batch_requests) : json(nullptr);
    j["max_client_batch_size"] = options.max_client_batch_size;
    j["payload_limit"] = options.payload_limit;
    j["auto_truncate"] = options.auto_truncate;
    j["tokenization_workers"] = nullptr;  // inputs are tokenized on each connection's own thread
    j["device"] = backend_name(default_backend());
    j["version"] = "0.1.0";
    j["sha"] = nullptr;
    j["docker_label"] = nullptr;
    return j;
  }

  void routes() {
    httplib::Server& s = *http;
    s.Post("/predict", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      classify(req, res, reader, &parse_tei_predict);
    });
    s.Post("/", [this](const httplib::Request& req, httplib::Response& res, const httplib::ContentReader& reader) {
      classify(req, res, reader, &parse_inference_api);
    });
    s.Get("/health", [this](const httplib::Request&, httplib::Response& res) { health(res); });
    s.Get("/info", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(info().dump(-1, ' ', false, json::error_handler_t::replace), "application/json");
    });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) {
      res.set_content(metrics.render(scheduler->queued_rows(), in_flight.load()), "text/plain; version=0.0.4");
    });
    s.set_error_handler(httplib::Server::HandlerWithResponse([](const httplib::Request& req, httplib::Response& res) {
      if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;  // ours, already a JSON error
      const std::string what = res.status == 404 ? "no route " + req.method + " " + req.path
                                                 : "the request could not be handled (" + std::to_string(res.status) + ")";
      res.set_content(ApiError(res.status, "Validation", what).body().dump(-1, ' ', false, json::error_handler_t::replace),
                      "application/json");
      return httplib::Server::HandlerResponse::Handled;
    }));
    s.set_exception_handler([](const httplib::Request&, httplib::Response& res, std::exception_ptr error) {
      std::string what = "unknown error";
      try {
        std::rethrow_exception(error);
      } catch (const std::exception& e) {
        what = e.what();
      } catch (...) {
      }
      reply_error(res, ApiError(500, "Backend", what));
    });
    s.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      metrics.count_response(route_of(req.path), res.status);
    });
    s.set_payload_max_length(options.payload_limit);
    s.set_keep_alive_timeout(options.keep_alive_seconds);
    s.set_keep_alive_max_count(1000000);  // the Keep-Alive header's max=; the connection loop sets no count
    s.set_read_timeout(options.read_timeout_seconds, 0);
    s.set_write_timeout(options.read_timeout_seconds, 0);
    s.set_tcp_nodelay(true);
    // httplib's default socket options add SO_REUSEPORT, which lets a second server bind a port already serving
    // (the kernel then splits connections between them). SO_REUSEADDR only: a busy port is an error.
    s.set_socket_options([this](int sock) {
      const int yes = 1;
      ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
      listen_socket = sock;
    });
  }
};

ClassificationServer::ClassificationServer(TextClassificationPipeline& pipeline, ServeOptions options)
    : impl_(std::make_unique<Impl>(pipeline, std::move(options))) {}

ClassificationServer::~ClassificationServer() {
  stop();
  impl_->scheduler->shutdown();
}

int ClassificationServer::bind() {
  const ServeOptions& o = impl_->options;
  ACCENT_CHECK(o.port >= 0 && o.port <= 65535, "--port must be 0..65535, got ", o.port);
  if (o.port == 0) {
    impl_->port = impl_->http->bind_to_any_port(o.host);
    ACCENT_CHECK(impl_->port > 0, "cannot listen on ", o.host, " (no free port, or the address is not this machine's)");
  } else {
    ACCENT_CHECK(impl_->http->bind_to_port(o.host, o.port), "cannot listen on ", o.host, ":", o.port,
                 " (the port is in use, or the address is not this machine's)");
    impl_->port = o.port;
  }
  // httplib listens with a backlog of 5: 16 clients connecting at once overflowed it, and the kernel dropped
  // their SYNs (each retried a second later). listen() again on the bound socket raises the backlog.
  if (impl_->listen_socket >= 0) ::listen(impl_->listen_socket, SOMAXCONN);
  return impl_->port;
}

int ClassificationServer::port() const { return impl_->port; }

void ClassificationServer::run() {
  ACCENT_CHECK(impl_->port > 0, "ClassificationServer::run: bind() first");
  impl_->running = true;
  if (!impl_->stopping.load()) impl_->http->listen_after_bind();  // returns after stop(), connections done
  impl_->running = false;
  impl_->scheduler->shutdown();  // answers anything still queued
}

void ClassificationServer::stop() {
  impl_->stopping = true;
  // stop() before listen_after_bind() has started is lost by httplib: retry while run() is starting.
  for (int i = 0; i < 200 && impl_->running.load() && !impl_->http->is_running(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  impl_->http->stop();
}

}  // namespace accent
