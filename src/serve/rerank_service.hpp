#pragma once
// relmoe's online reranking service over HTTP (serve/http_server.hpp, requests and answers in
// serve/api.hpp):
//   POST /rerank   {"query", "texts": [...] | "ids": [...], "raw_scores"?: bool}
//                  -> [{"index", "score"}] best first (text-embeddings-inference's shape); the score
//                  is the calibrated probability, or MaxSim with raw_scores
//   POST /score    {"pairs": [{"query", "item"}, ...]} -> {"scores": [probability, ...]} in order
//   GET  /health   {"status": "ok", "items": N}
//   GET  /metrics  Prometheus text (serve/metrics.hpp)
// Errors are {"error", "error_type"}: 400 malformed JSON or fields, unknown ids; 404/405 unknown
// routes; 413 bodies over the byte limit or more candidates than allowed; 431 request heads over
// their limits; 429 when the batcher's queue is full (with Retry-After); 503 when a request waits
// past its timeout; 500 a damaged index or student. Every answer is counted in the metrics.
// stop() drains (HttpServer::stop) before serve() returns.
#include "serve/http_server.hpp"
#include "serve/metrics.hpp"
#include "serve/rerank_batcher.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

namespace relmoe {

struct ServiceOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int io_threads = 2;
  int http_threads = 96;  // run handlers: parse a request, wait for its jobs, write the answer
  std::size_t max_candidates = 1000;
  HttpLimits http;
  std::chrono::milliseconds timeout{5000};
  BatcherOptions batcher;
};

class RerankService {
 public:
  RerankService(const ColbertStudent& student, const ItemIndex* index, ServiceOptions options);
  ~RerankService();

  // Binds the socket and returns the port (the chosen one when options.port is 0).
  int bind();
  // Answers requests until stop(); returns once the drain is done.
  void serve();
  // Thread-safe; callable before serve() has started listening.
  void stop();
  // Requests inside a handler now (read, not yet answered).
  std::int64_t in_flight() const { return in_flight_; }
  std::int64_t open_connections() const { return server_->open_connections(); }

 private:
  HttpResponse rerank(const HttpRequest& request);
  HttpResponse score(const HttpRequest& request);
  // Submits every job to the batcher, then waits for them all (one deadline): each job's raw
  // MaxSim scores. Throws ApiError 429 when the queue is full, 503 past the deadline.
  std::vector<std::vector<float>> run_jobs(std::vector<RerankJob> jobs);
  // Throws (a 500 naming the candidate) unless every score is a MaxSim a sound index and student
  // can give: finite, within +-query_tokens (unit vectors). NaN or flipped bits in the index
  // vectors or the student's weights end here instead of in a ranked answer.
  void require_sound(const std::vector<float>& scores, const std::function<std::string(std::size_t)>& candidate) const;
  // `handler` with the errors it throws as JSON answers, counted in in_flight_.
  HttpHandler guarded(HttpResponse (RerankService::*handler)(const HttpRequest&));

  const ColbertStudent& student_;
  const ItemIndex* index_;
  ServiceOptions options_;
  Metrics metrics_;
  RerankBatcher batcher_;
  std::unique_ptr<HttpServer> server_;
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace relmoe
