#pragma once
// A closed-loop HTTP load generator for the service: `concurrency` clients, each with one
// keep-alive connection, send the request bodies in turn (each client waits for its answer before
// sending again) until `requests` are sent or `max_seconds` pass. Loopback use only.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

namespace relmoe {

struct LoadSpec {
  std::string host = "127.0.0.1";
  int port = 0;
  std::string path = "/rerank";
  std::vector<std::string> bodies;  // JSON bodies, used round-robin
  int concurrency = 1;
  std::int64_t requests = 100;
  double max_seconds = 30;
  int backoff_ms = 100;  // after a 429, the client waits this long (as Retry-After asks; 0: not at all)
  // Checks a 200 answer's body against the request's index; false counts as a bad answer.
  std::function<bool(std::size_t body, const std::string& answer)> check;
};

struct LoadResult {
  int concurrency = 0;
  std::int64_t sent = 0, transport_errors = 0, bad_answers = 0;
  std::map<int, std::int64_t> statuses;
  double seconds = 0, ok_per_second = 0, p50_ms = 0, p99_ms = 0, max_ms = 0;
  nlohmann::json to_json() const;
};

LoadResult run_load(const LoadSpec& spec);

}  // namespace relmoe
