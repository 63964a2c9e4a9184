#include "serve/rerank_batcher.hpp"

#include "student/maxsim.hpp"

#include <torch/utils.h>

namespace relmoe {

RerankBatcher::RerankBatcher(const ColbertStudent& student, const ItemIndex* index, BatcherOptions options,
                             Metrics& metrics)
    : student_(student), index_(index), options_(options), metrics_(metrics), worker_([this] { run(); }) {}

RerankBatcher::~RerankBatcher() { stop(); }

std::optional<JobResult> RerankBatcher::submit(RerankJob job) {
  const auto tokens = student_.config().query_tokens +
                      static_cast<std::int64_t>(job.texts.size()) * student_.config().item_tokens;
  std::lock_guard lock(mutex_);
  if (stopping_ || queue_.size() >= options_.queue_capacity) return std::nullopt;
  queue_.push_back({std::move(job), {}, tokens});
  auto future = queue_.back().result.get_future();
  ready_.notify_one();
  return future;
}

std::int64_t RerankBatcher::depth() const {
  std::lock_guard lock(mutex_);
  return static_cast<std::int64_t>(queue_.size());
}

void RerankBatcher::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  ready_.notify_all();
  if (worker_.joinable()) worker_.join();
}

void RerankBatcher::run() {
  torch::NoGradGuard no_grad;
  while (true) {
    std::vector<Entry> batch;
    {
      std::unique_lock lock(mutex_);
      ready_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping, and everything accepted is answered
      std::int64_t tokens = 0;
      const auto now = std::chrono::steady_clock::now();
      while (!queue_.empty() && (batch.empty() || tokens + queue_.front().tokens <= options_.token_budget)) {
        auto entry = std::move(queue_.front());
        queue_.pop_front();
        if (entry.job.deadline < now) {
          entry.result.set_exception(std::make_exception_ptr(JobTimedOut()));
          continue;
        }
        tokens += entry.tokens;
        batch.push_back(std::move(entry));
      }
    }
    if (!batch.empty()) process(batch);
  }
}

void RerankBatcher::process(std::vector<Entry>& batch) {
  metrics_.record_batch(batch.size());
  try {
    std::vector<std::string> queries, texts;
    for (const auto& e : batch) {
      queries.push_back(e.job.query);
      texts.insert(texts.end(), e.job.texts.begin(), e.job.texts.end());
    }
    const auto q = student_.encode_queries(queries);
    std::optional<ItemVectors> encoded;
    if (!texts.empty()) encoded = student_.encode_items(texts);
    std::int64_t next_text = 0;
    for (std::size_t b = 0; b < batch.size(); ++b) {
      const auto& job = batch[b].job;
      torch::Tensor tokens;
      std::vector<std::int64_t> lengths;
      if (!job.texts.empty()) {
        std::vector<torch::Tensor> parts;
        for (std::size_t i = 0; i < job.texts.size(); ++i, ++next_text) {
          const auto n = encoded->lengths[static_cast<std::size_t>(next_text)];
          parts.push_back(encoded->vectors[next_text].narrow(0, 0, n));
          lengths.push_back(n);
        }
        tokens = torch::cat(parts);
      } else {
        tokens = index_->gather(job.rows);
        for (auto r : job.rows) lengths.push_back(index_->length(r));
      }
      batch[b].result.set_value(maxsim_packed(q[static_cast<std::int64_t>(b)], tokens, lengths));
    }
  } catch (...) {
    for (auto& e : batch) {
      try {
        e.result.set_exception(std::current_exception());
      } catch (const std::future_error&) {  // this one was answered before the failure
      }
    }
  }
}

}  // namespace relmoe
