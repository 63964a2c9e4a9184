#pragma once
// relmoe's online reranking service over HTTP (cpp-httplib):
//   POST /rerank   {"query", "texts": [...] | "ids": [...], "raw_scores"?: bool}
//                  -> [{"index", "score"}] best first (text-embeddings-inference's shape); the score
//                  is the calibrated probability, or MaxSim with raw_scores
//   POST /score    {"pairs": [{"query", "item"}, ...]} -> {"scores": [probability, ...]} in order
//   GET  /health   {"status": "ok", "items": N}
//   GET  /metrics  Prometheus text (serve/metrics.hpp)
// Errors are {"error", "error_type"}: 400 malformed JSON or fields, unknown ids; 413 bodies over
// the byte limit or more candidates than allowed; 429 when the batcher's queue is full (with
// Retry-After); 503 when a request waits past its timeout. stop() finishes the requests already
// accepted before serve() returns.
#include "serve/metrics.hpp"
#include "serve/rerank_batcher.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace relmoe {

struct ServiceOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int http_threads = 96;
  std::size_t max_candidates = 1000;
  std::size_t max_body_bytes = 4 << 20;
  std::chrono::milliseconds timeout{5000};
  BatcherOptions batcher;
};

class RerankService {
 public:
  RerankService(const ColbertStudent& student, const ItemIndex* index, ServiceOptions options);
  ~RerankService();

  // Binds the socket and returns the port (the chosen one when options.port is 0).
  int bind();
  // Answers requests until stop(); returns once every accepted request is answered.
  void serve();
  // Thread-safe; callable before serve() has started listening.
  void stop();
  // Requests inside a handler now (accepted, not yet answered).
  std::int64_t in_flight() const { return in_flight_; }

 private:
  void rerank(const httplib::Request& request, httplib::Response& response);
  void score(const httplib::Request& request, httplib::Response& response);
  void refuse_when_full(httplib::Response& response) const;
  // Submits every job to the batcher, then waits for them all (one deadline): each job's raw
  // MaxSim scores, or nullopt with an error status set on `response`.
  std::optional<std::vector<std::vector<float>>> run_jobs(std::vector<RerankJob> jobs, httplib::Response& response);
  // Throws (a 500 naming the candidate) unless every score is a MaxSim a sound index and student
  // can give: finite, within +-query_tokens (unit vectors). NaN or flipped bits in the index
  // vectors or the student's weights end here instead of in a ranked answer.
  void require_sound(const std::vector<float>& scores, const std::function<std::string(std::size_t)>& candidate) const;

  const ColbertStudent& student_;
  const ItemIndex* index_;
  ServiceOptions options_;
  Metrics metrics_;
  RerankBatcher batcher_;
  std::unique_ptr<httplib::Server> server_;
  int listen_socket_ = -1;
  std::atomic<std::int64_t> in_flight_{0};
};

}  // namespace relmoe
