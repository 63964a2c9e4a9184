#include "serve/metrics.hpp"

#include <sstream>

namespace relmoe {

template <std::size_t N>
void Metrics::Histogram<N>::observe(const std::array<double, N>& bounds, double value) {
  for (std::size_t i = 0; i < N; ++i)
    if (value <= bounds[i]) {
      ++buckets[i];
      break;
    }
  ++count;
  sum += value;
}

void Metrics::record_request(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  ++requests_[{route, status}];
  latency_[route].observe(kLatencyBounds, seconds);
}

void Metrics::record_batch(std::size_t jobs) {
  std::lock_guard lock(mutex_);
  batches_.observe(kBatchBounds, static_cast<double>(jobs));
}

void Metrics::record_refused_connection() {
  std::lock_guard lock(mutex_);
  ++refused_connections_;
}

namespace {

template <class H, std::size_t N>
void write_histogram(std::ostringstream& out, const std::string& name, const std::string& labels, const H& h,
                     const std::array<double, N>& bounds) {
  const std::string sep = labels.empty() ? "" : ",";
  std::int64_t cumulative = 0;
  for (std::size_t i = 0; i < N; ++i) {
    cumulative += h.buckets[i];
    out << name << "_bucket{" << labels << sep << "le=\"" << bounds[i] << "\"} " << cumulative << "\n";
  }
  out << name << "_bucket{" << labels << sep << "le=\"+Inf\"} " << h.count << "\n";
  const std::string braces = labels.empty() ? "" : "{" + labels + "}";
  out << name << "_sum" << braces << " " << h.sum << "\n" << name << "_count" << braces << " " << h.count << "\n";
}

}  // namespace

std::string Metrics::render(std::int64_t queue_depth, std::int64_t open_connections) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out << "# HELP relmoe_requests_total HTTP requests by route and status.\n# TYPE relmoe_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out << "relmoe_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  out << "# HELP relmoe_request_seconds Request latency.\n# TYPE relmoe_request_seconds histogram\n";
  for (const auto& [route, h] : latency_)
    write_histogram(out, "relmoe_request_seconds", "route=\"" + route + "\"", h, kLatencyBounds);
  out << "# HELP relmoe_batch_jobs Jobs per model batch.\n# TYPE relmoe_batch_jobs histogram\n";
  write_histogram(out, "relmoe_batch_jobs", "", batches_, kBatchBounds);
  out << "# HELP relmoe_queue_depth Jobs waiting for the model.\n# TYPE relmoe_queue_depth gauge\n"
      << "relmoe_queue_depth " << queue_depth << "\n";
  out << "# HELP relmoe_open_connections Client connections open now.\n# TYPE relmoe_open_connections gauge\n"
      << "relmoe_open_connections " << open_connections << "\n";
  out << "# HELP relmoe_refused_connections_total Connections closed at once: the cap was reached.\n"
      << "# TYPE relmoe_refused_connections_total counter\n"
      << "relmoe_refused_connections_total " << refused_connections_ << "\n";
  return out.str();
}

}  // namespace relmoe
