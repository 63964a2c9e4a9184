#include "serve/rerank_service.hpp"

#include "base/error.hpp"

#include <httplib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
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
  response.set_content(nlohmann::json{{"error", message}, {"error_type", type}}.dump(), "application/json");
}

nlohmann::json parse_body(const httplib::Request& request) {
  try {
    auto body = nlohmann::json::parse(request.body);
    if (!body.is_object()) throw BadRequest(400, "the body must be a JSON object");
    return body;
  } catch (const nlohmann::json::parse_error& e) {
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
      }
      metrics_.record_request(route, response.status,
                              std::chrono::duration<double>(Clock::now() - start).count());
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

std::optional<std::vector<float>> RerankService::run_job(RerankJob job, httplib::Response& response) {
  job.deadline = Clock::now() + options_.timeout;
  const auto deadline = job.deadline;
  auto result = batcher_.submit(std::move(job));
  if (!result) {
    refuse_when_full(response);
    return std::nullopt;
  }
  if (result->wait_until(deadline + std::chrono::milliseconds(50)) != std::future_status::ready) {
    send_error(response, 503, "the request timed out after " + std::to_string(options_.timeout.count()) + " ms");
    return std::nullopt;
  }
  try {
    return result->get();
  } catch (const JobTimedOut& e) {
    send_error(response, 503, e.what());
    return std::nullopt;
  }
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
  }
  const auto scores = run_job(std::move(job), response);
  if (!scores) return;
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
  std::vector<double> out(pairs.size());
  for (const auto& [query, rows] : by_query) {
    RerankJob job;
    job.query = query;
    for (auto i : rows) job.texts.push_back(items[i]);
    const auto scores = run_job(std::move(job), response);
    if (!scores) return;
    for (std::size_t k = 0; k < rows.size(); ++k) out[rows[k]] = student_.probability((*scores)[k]);
  }
  response.set_content(nlohmann::json{{"scores", out}}.dump(), "application/json");
}

}  // namespace relmoe
