#include "serve/load_generator.hpp"

#include "base/error.hpp"
#include "base/stopwatch.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace relmoe {

nlohmann::json LoadResult::to_json() const {
  nlohmann::json by_status = nlohmann::json::object();
  for (const auto& [status, n] : statuses) by_status[std::to_string(status)] = n;
  return {{"concurrency", concurrency},   {"sent", sent},     {"statuses", by_status},
          {"transport_errors", transport_errors}, {"bad_answers", bad_answers}, {"seconds", seconds},
          {"ok_per_second", ok_per_second}, {"p50_ms", p50_ms}, {"p99_ms", p99_ms}, {"max_ms", max_ms}};
}

LoadResult run_load(const LoadSpec& spec) {
  if (spec.bodies.empty() || spec.concurrency < 1) fail("loadtest", "needs request bodies and concurrency >= 1");
  using Clock = std::chrono::steady_clock;
  const auto start = Clock::now();
  std::atomic<std::int64_t> next{0};
  std::mutex mutex;
  LoadResult r;
  r.concurrency = spec.concurrency;
  std::vector<double> ok_ms;
  auto client_loop = [&] {
    httplib::Client client(spec.host, spec.port);
    client.set_keep_alive(true);
    client.set_tcp_nodelay(true);
    client.set_read_timeout(60, 0);
    std::vector<double> mine;
    std::map<int, std::int64_t> statuses;
    std::int64_t errors = 0, bad = 0;
    while (true) {
      const auto i = next.fetch_add(1);
      if (i >= spec.requests || seconds_since(start) > spec.max_seconds) break;
      const auto body = static_cast<std::size_t>(i) % spec.bodies.size();
      const auto sent = Clock::now();
      const auto answer = client.Post(spec.path.c_str(), spec.bodies[body], "application/json");
      const double ms = std::chrono::duration<double, std::milli>(Clock::now() - sent).count();
      if (!answer) {
        ++errors;
        continue;
      }
      ++statuses[answer->status];
      if (answer->status == 429 && spec.backoff_ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(spec.backoff_ms));
      if (answer->status == 200) {
        mine.push_back(ms);
        if (spec.check && !spec.check(body, answer->body)) ++bad;
      }
    }
    std::lock_guard lock(mutex);
    ok_ms.insert(ok_ms.end(), mine.begin(), mine.end());
    for (const auto& [s, n] : statuses) r.statuses[s] += n, r.sent += n;
    r.sent += errors;
    r.transport_errors += errors;
    r.bad_answers += bad;
  };
  std::vector<std::thread> clients;
  for (int c = 0; c < spec.concurrency; ++c) clients.emplace_back(client_loop);
  for (auto& t : clients) t.join();
  r.seconds = seconds_since(start);
  std::sort(ok_ms.begin(), ok_ms.end());
  auto quantile = [&](double q) {
    return ok_ms.empty() ? 0.0 : ok_ms[std::min(ok_ms.size() - 1, static_cast<std::size_t>(q * static_cast<double>(ok_ms.size())))];
  };
  r.ok_per_second = static_cast<double>(ok_ms.size()) / r.seconds;
  r.p50_ms = quantile(0.5), r.p99_ms = quantile(0.99), r.max_ms = ok_ms.empty() ? 0 : ok_ms.back();
  return r;
}

}  // namespace relmoe
