#include "serve/rerank_service.hpp"

#include "base/error.hpp"
#include "base/stopwatch.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <numeric>

namespace relmoe {

namespace {

using Clock = std::chrono::steady_clock;

// A request the client got wrong: answered with `status` and the message.
struct BadRequest : std::runtime_error {
  BadRequest(int status, const std::string& message) : std::runtime_error(message), status(status) {}
  int status;
};

void send_error(httplib::Response& response, int status, const std::string& message) {
  static const std::map<int, const char*> types{{400, "Validation"}, {413, "Validation"}, {429, "Overloaded"},
                                                {500, "Backend"},    {503, "Unhealthy"}};
  response.status = status;
  const auto type = types.count(status) ? types.at(status) : "Error";
  // A message can quote the request's own bytes (a JSON parse error does): invalid UTF-8 in it
  // becomes U+FFFD instead of an exception thrown out of the error path.
  response.set_content(nlohmann::json{{"error", message}, {"error_type", type}}.dump(
                           -1, ' ', false, nlohmann::json::error_handler_t::replace),
                       "application/json");
}

nlohmann::json parse_body(const httplib::Request& request) {
  try {
    auto body = nlohmann::json::parse(request.body);
    if (!body.is_object()) throw BadRequest(400, "the body must be a JSON object");
    return body;
  } catch (const nlohmann::json::exception& e) {  // a syntax error, bad UTF-8, a number like 1e999999
    throw BadRequest(400, std::string("malformed JSON: ") + e.what());
  }
}

std::string text_field(const nlohmann::json& j, const char* name, const std::string& where) {
  if (!j.contains(name) || !j[name].is_string() || j[name].get_ref<const std::string&>().empty())
    throw BadRequest(400, where + "'" + name + "' must be a non-empty string");
  return j[name].get<std::string>();
}

std::vector<std::string> string_list(const nlohmann::json& j, const char* name, std::size_t limit) {
  const auto& list = j[name];
  if (!list.is_array() || list.empty()) throw BadRequest(400, std::string("'") + name + "' must be a non-empty array");
  if (list.size() > limit)
    throw BadRequest(413, std::string("'") + name + "' has " + std::to_string(list.size()) + " entries; at most " +
                              std::to_string(limit) + " are allowed");
  std::vector<std::string> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string() || list[i].get_ref<const std::string&>().empty())
      throw BadRequest(400, std::string("'") + name + "'[" + std::to_string(i) + "] must be a non-empty string");
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

}  // namespace

RerankService::RerankService(const ColbertStudent& student, const ItemIndex* index, ServiceOptions options)
    : student_(student),
      index_(index),
      options_(std::move(options)),
      batcher_(student, index, options_.batcher, metrics_),
      server_(std::make_unique<httplib::Server>()) {
  auto& s = *server_;
  const int threads = options_.http_threads;
  s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  s.set_payload_max_length(options_.max_body_bytes);
  // httplib listens with a backlog of 5, so a burst of new connections overflows it; the listening
  // socket is kept here to listen again with a deep backlog once bound.
  s.set_socket_options([this](socket_t sock) {
    int yes = 1;
    ::setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    listen_socket_ = sock;
  });
  s.set_keep_alive_max_count(1000000);
  s.set_tcp_nodelay(true);  // a response goes out in two writes: Nagle + delayed ACK would add ~40 ms
  auto timed = [this](const char* route, auto handler) {
    return [this, route, handler](const httplib::Request& request, httplib::Response& response) {
      const auto start = Clock::now();
      ++in_flight_;
      response.status = 200;  // the handlers set another status only on errors
      try {
        (this->*handler)(request, response);
      } catch (const BadRequest& e) {
        send_error(response, e.status, e.what());
      } catch (const std::exception& e) {
        send_error(response, 500, e.what());
      } catch (...) {  // nothing may skip the metrics and in_flight_ below
        send_error(response, 500, "internal error");
      }
      metrics_.record_request(route, response.status,
                              seconds_since(start));
      --in_flight_;
    };
  };
  s.Post("/rerank", timed("/rerank", &RerankService::rerank));
  s.Post("/score", timed("/score", &RerankService::score));
  s.Get("/health", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(nlohmann::json{{"status", "ok"}, {"items", index_ ? index_->size() : 0}}.dump(),
                         "application/json");
  });
  s.Get("/metrics", [this](const httplib::Request&, httplib::Response& response) {
    response.set_content(metrics_.render(batcher_.depth()), "text/plain; version=0.0.4");
  });
  // Bodies over the limit never reach a handler; httplib answers 413 with an empty body.
  s.set_error_handler([](const httplib::Request&, httplib::Response& response) {
    if (response.body.empty() && response.status == 413)
      send_error(response, 413, "the request body is larger than the server's limit");
  });
}

RerankService::~RerankService() {
  stop();
  batcher_.stop();
}

int RerankService::bind() {
  if (options_.port == 0) {
    const int port = server_->bind_to_any_port(options_.host);
    if (port < 0) fail("serve", "cannot bind a port on " + options_.host);
    ::listen(listen_socket_, SOMAXCONN);
    return port;
  }
  if (!server_->bind_to_port(options_.host, options_.port))
    fail("--port", "cannot bind " + options_.host + ":" + std::to_string(options_.port) + " (in use?)");
  ::listen(listen_socket_, SOMAXCONN);
  return options_.port;
}

void RerankService::serve() {
  server_->listen_after_bind();
  batcher_.stop();
}

void RerankService::stop() { server_->stop(); }

std::optional<std::vector<std::vector<float>>> RerankService::run_jobs(std::vector<RerankJob> jobs,
                                                                      httplib::Response& response) {
  const auto deadline = Clock::now() + options_.timeout;
  std::vector<JobResult> results;
  for (auto& job : jobs) {
    job.deadline = deadline;
    auto result = batcher_.submit(std::move(job));
    if (!result) {
      refuse_when_full(response);
      return std::nullopt;
    }
    results.push_back(std::move(*result));
  }
  std::vector<std::vector<float>> scores;
  for (auto& result : results) {
    if (result.wait_until(deadline + std::chrono::milliseconds(50)) != std::future_status::ready) {
      send_error(response, 503, "the request timed out after " + std::to_string(options_.timeout.count()) + " ms");
      return std::nullopt;
    }
    try {
      scores.push_back(result.get());
    } catch (const JobTimedOut& e) {
      send_error(response, 503, e.what());
      return std::nullopt;
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

void RerankService::refuse_when_full(httplib::Response& response) const {
  response.set_header("Retry-After", "1");
  send_error(response, 429, "the server is busy (queue full); retry later");
}

void RerankService::rerank(const httplib::Request& request, httplib::Response& response) {
  // Under overload most requests are refused: refusing before parsing keeps that cheap, so the
  // model thread keeps the CPU.
  if (batcher_.full()) return refuse_when_full(response);
  const auto body = parse_body(request);
  RerankJob job;
  job.query = text_field(body, "query", "");
  const bool has_texts = body.contains("texts"), has_ids = body.contains("ids");
  if (has_texts == has_ids) throw BadRequest(400, "give exactly one of 'texts' and 'ids'");
  bool raw = false;
  if (body.contains("raw_scores")) {
    if (!body["raw_scores"].is_boolean()) throw BadRequest(400, "'raw_scores' must be true or false");
    raw = body["raw_scores"].get<bool>();
  }
  std::size_t count = 0;
  std::vector<std::int64_t> rows_of_ids;  // kept to name a damaged item
  if (has_texts) {
    job.texts = string_list(body, "texts", options_.max_candidates);
    count = job.texts.size();
  } else {
    if (!index_) throw BadRequest(400, "this server has no item index; send 'texts'");
    for (const auto& id : string_list(body, "ids", options_.max_candidates)) {
      const auto row = index_->find(id);
      if (row < 0) throw BadRequest(400, "item id '" + id + "' is not in the index");
      job.rows.push_back(row);
    }
    count = job.rows.size();
    rows_of_ids = job.rows;
  }
  std::vector<RerankJob> jobs;
  jobs.push_back(std::move(job));
  const auto results = run_jobs(std::move(jobs), response);
  if (!results) return;
  const auto* scores = &results->front();
  require_sound(*scores, [&](std::size_t i) {
    return has_texts ? "candidate " + std::to_string(i) : "item '" + index_->id(rows_of_ids[i]) + "'";
  });
  std::vector<std::size_t> order(count);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return (*scores)[a] > (*scores)[b]; });
  auto out = nlohmann::json::array();
  for (auto i : order) {
    const double s = (*scores)[i];
    out.push_back({{"index", i}, {"score", raw ? s : student_.probability(s)}});
  }
  response.set_content(out.dump(), "application/json");
}

void RerankService::score(const httplib::Request& request, httplib::Response& response) {
  if (batcher_.full()) return refuse_when_full(response);
  const auto body = parse_body(request);
  if (!body.contains("pairs") || !body["pairs"].is_array() || body["pairs"].empty())
    throw BadRequest(400, "'pairs' must be a non-empty array of {\"query\", \"item\"}");
  const auto& pairs = body["pairs"];
  if (pairs.size() > options_.max_candidates)
    throw BadRequest(413, "'pairs' has " + std::to_string(pairs.size()) + " entries; at most " +
                              std::to_string(options_.max_candidates) + " are allowed");
  // One job per distinct query, its items in order.
  std::map<std::string, std::vector<std::size_t>> by_query;
  std::vector<std::string> items;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (!pairs[i].is_object()) throw BadRequest(400, "'pairs'[" + std::to_string(i) + "] must be an object");
    const auto where = "'pairs'[" + std::to_string(i) + "].";
    by_query[text_field(pairs[i], "query", where)].push_back(i);
    items.push_back(text_field(pairs[i], "item", where));
  }
  std::vector<RerankJob> jobs;
  for (const auto& [query, rows] : by_query) {
    RerankJob job;
    job.query = query;
    for (auto i : rows) job.texts.push_back(items[i]);
    jobs.push_back(std::move(job));
  }
  const auto results = run_jobs(std::move(jobs), response);
  if (!results) return;
  std::vector<double> out(pairs.size());
  std::size_t j = 0;
  for (const auto& [query, rows] : by_query) {
    const auto& scores = (*results)[j++];
    require_sound(scores, [&](std::size_t k) { return "'pairs'[" + std::to_string(rows[k]) + "]"; });
    for (std::size_t k = 0; k < rows.size(); ++k) out[rows[k]] = student_.probability(scores[k]);
  }
  response.set_content(nlohmann::json{{"scores", out}}.dump(), "application/json");
}

}  // namespace relmoe
