#pragma once
// The service's Prometheus metrics: requests by route and status, latency histograms by route,
// batch sizes, connections refused at the cap, and the queue depth and open connections (read when
// rendered).
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>

namespace relmoe {

class Metrics {
 public:
  void record_request(const std::string& route, int status, double seconds);
  void record_batch(std::size_t jobs);
  void record_refused_connection();
  // The exposition text (text/plain; version=0.0.4).
  std::string render(std::int64_t queue_depth, std::int64_t open_connections) const;

  static constexpr std::array<double, 12> kLatencyBounds{0.001, 0.0025, 0.005, 0.01, 0.02, 0.05,
                                                         0.1,   0.2,    0.5,   1,    2,    5};
  static constexpr std::array<double, 8> kBatchBounds{1, 2, 4, 8, 16, 32, 64, 128};

 private:
  template <std::size_t N>
  struct Histogram {
    std::array<std::int64_t, N> buckets{};  // cumulative at render time, per bucket here
    std::int64_t count = 0;
    double sum = 0;
    void observe(const std::array<double, N>& bounds, double value);
  };
  mutable std::mutex mutex_;
  std::map<std::pair<std::string, int>, std::int64_t> requests_;
  std::map<std::string, Histogram<kLatencyBounds.size()>> latency_;
  Histogram<kBatchBounds.size()> batches_;
  std::int64_t refused_connections_ = 0;
};

}  // namespace relmoe
