// serve/classification_server.h — `accent serve`: a text-classification model behind text-embeddings-inference's
// HTTP API (spec/serving.md), plus the Hugging Face Inference API's POST /.
//
// Routes: POST /predict (TEI), POST / (Inference API), GET /health, GET /info, GET /metrics.
// A request's life: the in-flight count is checked (429 past --max-concurrent-requests); the body is read up to
// --payload-limit bytes (a larger Content-Length is refused before a byte of the body is read, a chunked body is
// cut off at the limit: 413); it is parsed (422) and checked against --max-client-batch-size (413); each input is
// tokenized on the connection's thread (422 when over the model's positions without truncate); the rows go to the
// BatchScheduler; a failed forward pass is 424. Errors are TEI's {"error", "error_type"}.
// Shutdown (stop(), e.g. on SIGTERM): the listening socket closes, idle keep-alive connections end, requests in
// progress are answered, then the batching thread finishes what is queued; run() then returns.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "serve/batch_scheduler.h"
#include "serve/text_classification.h"

namespace accent {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 3000;                        // 0 = any free port (port() says which)
  std::string model_id;                   // what /info reports
  int64_t max_client_batch_size = 32;     // inputs per request (413 past it)
  int64_t max_concurrent_requests = 512;  // classify requests in flight (429 past it)
  BatchLimits batch;                      // --max-batch-tokens, --max-batch-requests
  bool shape_buckets = true;              // pad batches to a few shapes (serve/batch_scheduler.h); off: exact fit
  size_t payload_limit = 2'000'000;       // request body bytes (413 past it), TEI's --payload-limit
  bool auto_truncate = false;             // truncate over-long inputs even when the request does not ask
  int keep_alive_seconds = 5;             // an idle keep-alive connection is closed after this
  int read_timeout_seconds = 5;           // a client silent this long mid-request is dropped
  int request_timeout_seconds = 30;       // a request (head + body) must arrive within this
};

class ClassificationServer {
 public:
  // `pipeline` must outlive the server; only the server's batching thread runs its model.
  ClassificationServer(TextClassificationPipeline& pipeline, ServeOptions options);
  ~ClassificationServer();

  // Binds host:port (a port already in use is an error: no SO_REUSEPORT sharing). Returns the bound port.
  int bind();
  int port() const;
  // Serves until stop(); returns once every accepted request is answered and the queue is empty.
  void run();
  // Thread-safe; not async-signal-safe (call it from a thread that waited for the signal).
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace accent
