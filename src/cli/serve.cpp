// `relmoe serve`: the student's reranking service (serve/rerank_service.hpp). SIGTERM or SIGINT
// stops accepting connections, answers every request already accepted, then exits 0.
#include "base/error.hpp"
#include "cli/command.hpp"
#include "cli/thread_option.hpp"
#include "runtime/compute.hpp"
#include "serve/rerank_service.hpp"

#include <spdlog/spdlog.h>

#include <atomic>
#include <csignal>
#include <thread>

namespace relmoe::cli {
namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop = true; }

struct ServeArgs {
  std::string student, index;
  ServiceOptions service;
  int threads = 0;
  long timeout_ms = 5000;
  long request_timeout_ms = 10000, idle_timeout_ms = 5000, drain_timeout_ms = 5000;
};

int run_serve(ServeArgs& a) {
  set_threads(a.threads);
  const auto student = ColbertStudent::load(a.student);
  std::optional<ItemIndex> index;
  if (!a.index.empty()) {
    index.emplace(ItemIndex::open(a.index));
    if (index->student() != ColbertStudent::fingerprint(a.student))
      fail("--index", a.index + " was built by another student; rebuild it with `relmoe student index`");
  }
  a.service.timeout = std::chrono::milliseconds(a.timeout_ms);
  a.service.http.request_timeout = std::chrono::milliseconds(a.request_timeout_ms);
  a.service.http.idle_timeout = std::chrono::milliseconds(a.idle_timeout_ms);
  a.service.http.drain_timeout = std::chrono::milliseconds(a.drain_timeout_ms);
  RerankService service(student, index ? &*index : nullptr, a.service);
  const int port = service.bind();
  std::signal(SIGTERM, on_signal);
  std::signal(SIGINT, on_signal);
  std::atomic<bool> done{false};
  std::thread watcher([&] {
    while (!done) {
      if (g_stop) service.stop();
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
  });
  spdlog::info("serving {} on http://{}:{} ({} indexed items)", a.student, a.service.host, port,
               index ? index->size() : 0);
  service.serve();
  done = true;
  watcher.join();
  spdlog::info("stopped");
  return 0;
}

const Register command{{"serve", "Serve the ColBERT student over HTTP: /rerank, /score, /health, /metrics",
  [](CLI::App& app) {
    auto a = std::make_shared<ServeArgs>();
    app.add_option("--student", a->student, "student directory from `relmoe student train`")->required();
    app.add_option("--index", a->index, "item index from `relmoe student index` (for /rerank by ids)");
    app.add_option("--host", a->service.host, "address to listen on")->capture_default_str();
    app.add_option("--port", a->service.port, "port (0: any free port)")->capture_default_str();
    add_threads_option(app, a->threads, "model threads");
    app.add_option("--io-threads", a->service.io_threads, "threads reading and writing every connection")
        ->capture_default_str()
        ->check(CLI::Range(1, 64));
    app.add_option("--http-threads", a->service.http_threads, "threads running requests already read (each waits for its jobs)")
        ->capture_default_str()
        ->check(CLI::Range(1, 4096));
    app.add_option("--max-connections", a->service.http.max_connections, "open connections (beyond: closed at once)")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{1}, std::size_t{1} << 20));
    app.add_option("--queue", a->service.batcher.queue_capacity, "jobs waiting at most (beyond: 429)")
        ->capture_default_str();
    app.add_option("--batch-tokens", a->service.batcher.token_budget, "query and text tokens per model batch")
        ->capture_default_str();
    app.add_option("--max-candidates", a->service.max_candidates, "texts or ids per request (beyond: 413)")
        ->capture_default_str();
    app.add_option("--max-body", a->service.http.max_body_bytes, "request body bytes, chunked ones too (beyond: 413)")
        ->capture_default_str();
    app.add_option("--max-header-bytes", a->service.http.max_header_bytes, "request head bytes (beyond: 431)")
        ->capture_default_str()
        ->check(CLI::Range(std::size_t{256}, std::size_t{1} << 24));
    app.add_option("--max-headers", a->service.http.max_header_fields, "request head fields (beyond: 431)")
        ->capture_default_str();
    app.add_option("--timeout-ms", a->timeout_ms, "a request's wait for the model (beyond: 503)")->capture_default_str();
    app.add_option("--request-timeout-ms", a->request_timeout_ms,
                   "time to receive a request's head and body from its first byte (beyond: closed)")
        ->capture_default_str()
        ->check(CLI::Range(1L, 3600000L));
    app.add_option("--idle-timeout-ms", a->idle_timeout_ms, "keep-alive wait for the next request (beyond: closed)")
        ->capture_default_str()
        ->check(CLI::Range(1L, 3600000L));
    app.add_option("--drain-timeout-ms", a->drain_timeout_ms,
                   "on SIGTERM, time to answer the requests already read before closing what is left")
        ->capture_default_str()
        ->check(CLI::Range(0L, 600000L));
    return [a] { return run_serve(*a); };
  }}};

}  // namespace
}  // namespace relmoe::cli
