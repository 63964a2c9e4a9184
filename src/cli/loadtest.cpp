// `relmoe loadtest`: closed-loop load on a running `relmoe serve` over loopback: /rerank of N
// indexed candidates per query at each concurrency, throughput and latency quantiles, every
// 200 answer checked (a complete ranking of the request's candidates).
#include "base/error.hpp"
#include "base/rng.hpp"
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "io/json_file.hpp"
#include "serve/load_generator.hpp"
#include "student/item_index.hpp"

#include <spdlog/spdlog.h>

#include <iostream>
#include <set>

namespace relmoe::cli {
namespace {

struct LoadArgs {
  std::string host = "127.0.0.1", index, queries, out;
  int port = 8080, candidates = 100;
  std::vector<int> concurrency{1, 8, 64};
  std::int64_t requests = 500;
  double max_seconds = 30;
  int backoff_ms = 100;
  PairInput input;
};

bool complete_ranking(const std::string& answer, std::size_t n) {
  try {
    const auto j = nlohmann::json::parse(answer);
    if (!j.is_array() || j.size() != n) return false;
    std::set<std::size_t> seen;
    for (const auto& e : j) seen.insert(e.at("index").get<std::size_t>());
    return seen.size() == n && *seen.rbegin() == n - 1;
  } catch (const std::exception&) {
    return false;
  }
}

int run_load_test(const LoadArgs& a) {
  if (a.host != "127.0.0.1" && a.host != "localhost" && a.host != "::1")
    fail("--host", "the load test only targets loopback addresses");
  const auto index = ItemIndex::open(a.index);
  const auto pairs = a.input.read(a.queries);
  std::vector<std::string> bodies;
  Rng rng(7);
  std::set<std::string> queries;
  for (const auto& p : pairs) queries.insert(p.query);
  for (const auto& q : queries) {
    nlohmann::json ids = nlohmann::json::array();
    for (int c = 0; c < a.candidates; ++c) ids.push_back(index.id(static_cast<std::int64_t>(rng.below(index.size()))));
    bodies.push_back(nlohmann::json{{"query", q}, {"ids", ids}}.dump());
    if (bodies.size() >= 1000) break;
  }
  nlohmann::json results = nlohmann::json::array();
  std::int64_t unanswered = 0, wrong = 0;
  for (int c : a.concurrency) {
    LoadSpec spec;
    spec.host = a.host, spec.port = a.port, spec.bodies = bodies, spec.concurrency = c;
    spec.requests = a.requests, spec.max_seconds = a.max_seconds, spec.backoff_ms = a.backoff_ms;
    const auto n = static_cast<std::size_t>(a.candidates);
    spec.check = [n](std::size_t, const std::string& answer) { return complete_ranking(answer, n); };
    const auto r = run_load(spec);
    results.push_back(r.to_json());
    unanswered += r.transport_errors;
    wrong += r.bad_answers;
    std::cout << "concurrency " << c << ": " << r.ok_per_second << " ok req/s, p50 " << r.p50_ms << " ms, p99 "
              << r.p99_ms << " ms, statuses " << r.to_json()["statuses"].dump() << ", transport errors "
              << r.transport_errors << ", bad answers " << r.bad_answers << "\n";
  }
  if (!a.out.empty()) write_json_file(a.out, {{"candidates", a.candidates}, {"runs", results}});
  // Overload answers (429, 503) are figures; a request that got no answer, or a wrong one, fails the run.
  if (unanswered + wrong > 0) {
    spdlog::error("{} requests got no answer from {}:{} and {} got a bad one", unanswered, a.host, a.port, wrong);
    return 1;
  }
  return 0;
}

const Register command{{"loadtest", "Load-test a running `relmoe serve` over loopback (/rerank of indexed candidates)",
  [](CLI::App& app) {
    auto a = std::make_shared<LoadArgs>();
    app.add_option("--host", a->host, "loopback address of the server")->capture_default_str();
    app.add_option("--port", a->port, "server port")->capture_default_str();
    app.add_option("--index", a->index, "the server's item index (candidate ids are drawn from it)")->required();
    app.add_option("--queries", a->queries, "pairs file whose queries are sent")->required();
    a->input.add(app);
    app.add_option("--candidates", a->candidates, "indexed candidates per request")->capture_default_str();
    app.add_option("--concurrency", a->concurrency, "clients at once, one run each")->delimiter(',')->capture_default_str();
    app.add_option("--requests", a->requests, "requests per run at most")->capture_default_str();
    app.add_option("--max-seconds", a->max_seconds, "seconds per run at most")->capture_default_str();
    app.add_option("--backoff-ms", a->backoff_ms, "a client's pause after a 429 (0: retry at once)")->capture_default_str();
    app.add_option("--out", a->out, "JSON file for the results");
    return [a] { return run_load_test(*a); };
  }}};

}  // namespace
}  // namespace relmoe::cli
