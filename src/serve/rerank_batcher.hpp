#pragma once
// Dynamic batching for the student: HTTP threads submit jobs (a query with indexed candidate
// rows or candidate texts) to a bounded queue; one model thread takes as many waiting jobs as fit
// a token budget, encodes all their queries (and any candidate texts) in one forward each, and
// scores every job by MaxSim against its candidates. A full queue refuses the job (the service
// answers 429); a job still queued past its deadline is dropped with a timeout (503).
#include "serve/metrics.hpp"
#include "student/colbert_student.hpp"
#include "student/item_index.hpp"

#include <chrono>
#include <condition_variable>
#include <deque>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace relmoe {

struct RerankJob {
  std::string query;
  std::vector<std::int64_t> rows;   // indexed candidates, or
  std::vector<std::string> texts;   // candidates encoded on the fly
  std::chrono::steady_clock::time_point deadline;
};

// Raw MaxSim per candidate, in the job's order.
using JobResult = std::future<std::vector<float>>;

struct BatcherOptions {
  std::size_t queue_capacity = 256;
  std::int64_t token_budget = 16384;  // query + candidate-text tokens per model batch
};

struct JobTimedOut : std::runtime_error {
  JobTimedOut() : std::runtime_error("the request waited longer than its timeout") {}
};

class RerankBatcher {
 public:
  RerankBatcher(const ColbertStudent& student, const ItemIndex* index, BatcherOptions options, Metrics& metrics);
  ~RerankBatcher();  // stop()

  // nullopt when the queue is full or the batcher is stopping.
  std::optional<JobResult> submit(RerankJob job);
  std::int64_t depth() const;
  // The queue is at capacity now (a cheap check before parsing a request).
  bool full() const { return depth() >= static_cast<std::int64_t>(options_.queue_capacity); }
  // Finishes every queued job, then ends the model thread.
  void stop();

 private:
  struct Entry {
    RerankJob job;
    std::promise<std::vector<float>> result;
    std::int64_t tokens;
  };
  void run();
  void process(std::vector<Entry>& batch);

  const ColbertStudent& student_;
  const ItemIndex* index_;
  BatcherOptions options_;
  Metrics& metrics_;
  mutable std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<Entry> queue_;
  bool stopping_ = false;
  std::thread worker_;
};

}  // namespace relmoe
