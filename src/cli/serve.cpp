// cli/serve.cpp — `accent serve`: a saved classification model behind TEI's HTTP API (serve/classification_server.h).
//
// Prints "accent serve: listening on http://HOST:PORT" on stdout once the port is bound (with --port 0, the port the
// system chose), so a script or test can read where to connect. SIGTERM / SIGINT: stop accepting, answer what was
// accepted and queued, exit 0.
#include <signal.h>

#include <atomic>
#include <cerrno>
#include <ctime>
#include <iostream>
#include <thread>

#include "cli/flag_checks.h"
#include "cli/verb.h"
#include "serve/classification_server.h"

namespace accent::cli {
namespace {

struct ServeCliOptions {
  std::string model;
  std::string base_model;
  bool offline = false;
  ServeOptions serve;
  int64_t payload_limit = 2'000'000;
};

int run_serve(ServeCliOptions o) {
  // The signals are taken by one thread with sigwait (no async-signal-safety to worry about): block them here,
  // before any thread (OpenMP's, the server's) exists, so every thread inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  o.serve.payload_limit = static_cast<size_t>(o.payload_limit);
  if (o.serve.model_id.empty()) o.serve.model_id = o.model;
  auto pipeline = TextClassificationPipeline::from_pretrained(o.model, o.offline, o.base_model);
  ACCENT_CHECK(pipeline.model().task() == ModelTask::SequenceClassification, o.model, ": accent serve answers text "
               "classification; this is a ", task_name(pipeline.model().task()), " model (use accent predict)");
  ClassificationServer server(pipeline, o.serve);
  const int port = server.bind();
  std::cout << "accent serve: listening on http://" << o.serve.host << ":" << port << std::endl;

  std::atomic<bool> finished{false};
  std::thread signal_watcher([&] {
    const timespec step{0, 100'000'000};  // 100 ms: notice `finished` when the server stops by itself
    while (!finished.load()) {
      const int sig = sigtimedwait(&stop_signals, nullptr, &step);
      if (sig == SIGTERM || sig == SIGINT) {
        std::cerr << "accent serve: " << (sig == SIGTERM ? "SIGTERM" : "SIGINT")
                  << ": no new connections; answering what was accepted, then exiting" << std::endl;
        server.stop();
        return;
      }
    }
  });
  server.run();
  finished = true;
  signal_watcher.join();
  std::cerr << "accent serve: stopped" << std::endl;
  return 0;
}

VerbRegistration reg{"serve", "Serve a classification model over HTTP (text-embeddings-inference's /predict API)",
  [](CLI::App& app) -> std::function<int()> {
    auto o = std::make_shared<ServeCliOptions>();
    app.add_option("--model,-m", o->model, "Model directory, hub id or LoRA adapter directory")->required();
    app.add_option("--base-model", o->base_model, "Base model of a LoRA adapter --model");
    app.add_flag("--offline", o->offline, "Use only the Hugging Face cache");
    app.add_option("--host,--hostname", o->serve.host, "Address to listen on")->capture_default_str();
    app.add_option("--port,-p", o->serve.port, "Port (0 = any free port, printed at start)")
        ->capture_default_str()->check(integer_in(0, 65535));
    app.add_option("--model-id", o->serve.model_id, "Model id /info reports (default: --model)");
    app.add_option("--max-client-batch-size", o->serve.max_client_batch_size, "Most inputs in one request (413 past it)")
        ->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_option("--max-concurrent-requests", o->serve.max_concurrent_requests,
                   "Most classify requests in flight (429 past it)")
        ->capture_default_str()->check(integer_in(1, 100000));
    app.add_option("--max-batch-tokens", o->serve.batch.max_batch_tokens,
                   "Most padded tokens (inputs x longest) in one forward pass")
        ->capture_default_str()->check(integer_in(1, kMaxFlagInt));
    app.add_option("--max-batch-requests", o->serve.batch.max_batch_requests, "Most inputs in one forward pass (0 = no limit)")
        ->capture_default_str()->check(integer_in(0, kMaxFlagInt));
    app.add_option("--payload-limit", o->payload_limit, "Most bytes in a request body (413 past it)")
        ->capture_default_str()->check(integer_in(1, int64_t{1} << 32));
    app.add_flag("!--no-shape-buckets", o->serve.shape_buckets,
                 "Pad each batch to its longest input and run any number of rows (default: a few bucketed shapes, "
                 "whose matmul kernels are built once)");
    app.add_flag("--auto-truncate", o->serve.auto_truncate, "Truncate over-long inputs even when a request does not ask");
    app.add_option("--keep-alive-timeout", o->serve.keep_alive_seconds, "Seconds an idle connection is kept")
        ->capture_default_str()->check(integer_in(1, 3600));
    app.add_option("--read-timeout", o->serve.read_timeout_seconds, "Seconds a client may stay silent mid-request")
        ->capture_default_str()->check(integer_in(1, 3600));
    app.add_option("--request-timeout", o->serve.request_timeout_seconds, "Seconds a whole request may take to arrive")
        ->capture_default_str()->check(integer_in(1, 3600));
    return [o] { return run_serve(*o); };
  }};

}  // namespace
}  // namespace accent::cli
