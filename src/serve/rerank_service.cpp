#include "serve/rerank_service.hpp"

#include "base/error.hpp"
#include "serve/api.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace relmoe {

namespace {

using Clock = std::chrono::steady_clock;

HttpResponse json_answer(std::string body) { return {200, std::move(body), "application/json", {}}; }

HttpResponse error_response(int status, const std::string& message) {
  HttpResponse r{status, error_answer(status, message), "application/json", {}};
  if (status == 429) r.headers.emplace_back("Retry-After", "1");
  return r;
}

const ApiError& queue_full() {
  static const ApiError error(429, "the server is busy (queue full); retry later");
  return error;
}

}  // namespace

RerankService::RerankService(const ColbertStudent& student, const ItemIndex* index, ServiceOptions options)
    : student_(student), index_(index), options_(std::move(options)), batcher_(student, index, options_.batcher, metrics_) {
  HttpHooks hooks;
  hooks.error = error_response;
  hooks.answered = [this](const std::string& route, int status, double seconds) {
    metrics_.record_request(route, status, seconds);
  };
  hooks.connection_refused = [this] { metrics_.record_refused_connection(); };
  server_ = std::make_unique<HttpServer>(options_.http, std::move(hooks), options_.io_threads, options_.http_threads);
  server_->route("POST", "/rerank", guarded(&RerankService::rerank));
  server_->route("POST", "/score", guarded(&RerankService::score));
  server_->route("GET", "/health", [this](const HttpRequest&) {
    return json_answer(health_answer(index_ ? index_->size() : 0));
  });
  server_->route("GET", "/metrics", [this](const HttpRequest&) {
    return HttpResponse{200, metrics_.render(batcher_.depth(), server_->open_connections()),
                        "text/plain; version=0.0.4", {}};
  });
}

RerankService::~RerankService() {
  stop();
  batcher_.stop();
}

HttpHandler RerankService::guarded(HttpResponse (RerankService::*handler)(const HttpRequest&)) {
  return [this, handler](const HttpRequest& request) {
    ++in_flight_;
    HttpResponse response;
    try {
      response = (this->*handler)(request);
    } catch (const ApiError& e) {
      response = error_response(e.status, e.what());
    } catch (const std::exception& e) {
      response = error_response(500, e.what());
    } catch (...) {  // nothing may skip in_flight_ below
      response = error_response(500, "internal error");
    }
    --in_flight_;
    return response;
  };
}

int RerankService::bind() { return server_->bind(options_.host, options_.port); }

void RerankService::serve() {
  server_->serve();
  batcher_.stop();
}

void RerankService::stop() { server_->stop(); }

std::vector<std::vector<float>> RerankService::run_jobs(std::vector<RerankJob> jobs) {
  const auto deadline = Clock::now() + options_.timeout;
  std::vector<JobResult> results;
  for (auto& job : jobs) {
    job.deadline = deadline;
    auto result = batcher_.submit(std::move(job));
    if (!result) throw queue_full();
    results.push_back(std::move(*result));
  }
  std::vector<std::vector<float>> scores;
  for (auto& result : results) {
    if (result.wait_until(deadline + std::chrono::milliseconds(50)) != std::future_status::ready)
      throw ApiError(503, "the request timed out after " + std::to_string(options_.timeout.count()) + " ms");
    try {
      scores.push_back(result.get());
    } catch (const JobTimedOut& e) {
      throw ApiError(503, e.what());
    }
  }
  return scores;
}

void RerankService::require_sound(const std::vector<float>& scores,
                                  const std::function<std::string(std::size_t)>& candidate) const {
  // 1 % above the bound covers the f16 rounding of the index's unit vectors.
  const double bound = 1.01 * static_cast<double>(student_.config().query_tokens);
  for (std::size_t i = 0; i < scores.size(); ++i)
    if (!(std::abs(static_cast<double>(scores[i])) <= bound))
      fail(candidate(i), "scored " + std::to_string(scores[i]) + ", not a MaxSim within +-" +
                             std::to_string(student_.config().query_tokens) +
                             ": the item index or the student is damaged");
}

HttpResponse RerankService::rerank(const HttpRequest& request) {
  // Under overload most requests are refused: refusing before parsing keeps that cheap, so the
  // model thread keeps the CPU.
  if (batcher_.full()) throw queue_full();
  const auto r = RerankRequest::parse(request.body, options_.max_candidates);
  const bool by_text = !r.texts.empty();
  RerankJob job;
  job.query = r.query;
  if (by_text) {
    job.texts = r.texts;
  } else {
    if (!index_) throw ApiError(400, "this server has no item index; send 'texts'");
    for (const auto& id : r.ids) {
      const auto row = index_->find(id);
      if (row < 0) throw ApiError(400, "item id '" + id + "' is not in the index");
      job.rows.push_back(row);
    }
  }
  const auto count = by_text ? r.texts.size() : r.ids.size();
  std::vector<RerankJob> jobs;
  jobs.push_back(std::move(job));
  const auto scores = std::move(run_jobs(std::move(jobs)).front());
  require_sound(scores, [&](std::size_t i) { return by_text ? "candidate " + std::to_string(i) : "item '" + r.ids[i] + "'"; });
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return scores[a] > scores[b]; });
  std::vector<RankedCandidate> ranking;
  for (auto i : order) {
    const double s = scores[i];
    ranking.push_back({i, r.raw_scores ? s : student_.probability(s)});
  }
  return json_answer(rerank_answer(ranking));
}

HttpResponse RerankService::score(const HttpRequest& request) {
  if (batcher_.full()) throw queue_full();
  const auto r = ScoreRequest::parse(request.body, options_.max_candidates);
  // One job per distinct query, its items in order.
  std::map<std::string, std::vector<std::size_t>> by_query;
  for (std::size_t i = 0; i < r.pairs.size(); ++i) by_query[r.pairs[i].query].push_back(i);
  std::vector<RerankJob> jobs;
  for (const auto& [query, rows] : by_query) {
    RerankJob job;
    job.query = query;
    for (auto i : rows) job.texts.push_back(r.pairs[i].item);
    jobs.push_back(std::move(job));
  }
  const auto results = run_jobs(std::move(jobs));
  std::vector<double> out(r.pairs.size());
  std::size_t j = 0;
  for (const auto& [query, rows] : by_query) {
    const auto& scores = results[j++];
    require_sound(scores, [&](std::size_t k) { return "'pairs'[" + std::to_string(rows[k]) + "]"; });
    for (std::size_t k = 0; k < rows.size(); ++k) out[rows[k]] = student_.probability(scores[k]);
  }
  return json_answer(score_answer(out));
}

}  // namespace relmoe
