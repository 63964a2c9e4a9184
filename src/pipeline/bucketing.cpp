#include "pipeline/bucketing.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <numeric>

namespace relmoe {

PaddingStats& PaddingStats::operator+=(const PaddingStats& o) {
  real += o.real;
  padded += o.padded;
  batches += o.batches;
  return *this;
}

namespace {
std::vector<std::int64_t> order_of(const std::vector<std::int64_t>& lengths, bool sort_by_length) {
  std::vector<std::int64_t> order(lengths.size());
  std::iota(order.begin(), order.end(), 0);
  if (sort_by_length)
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return lengths[a] < lengths[b]; });
  return order;
}
}  // namespace

void check_batch_plan(const BatchPlanOptions& options) {
  if (options.token_budget < 1) fail("--token-budget", "must be at least 1, got " + std::to_string(options.token_budget));
  if (options.max_batch < 1) fail("--max-batch", "must be at least 1, got " + std::to_string(options.max_batch));
}

std::vector<std::vector<std::int64_t>> plan_batches(const std::vector<std::int64_t>& lengths,
                                                    const BatchPlanOptions& options) {
  check_batch_plan(options);
  std::vector<std::vector<std::int64_t>> batches;
  std::vector<std::int64_t> current;
  std::int64_t longest = 0;
  for (const auto i : order_of(lengths, options.sort_by_length)) {
    const std::int64_t grown = std::max(longest, lengths[i]);
    const auto n = static_cast<std::int64_t>(current.size()) + 1;
    if (!current.empty() && (grown * n > options.token_budget || n > options.max_batch)) {
      batches.push_back(std::move(current));
      current.clear();
      longest = 0;
    }
    current.push_back(i);
    longest = std::max(longest, lengths[i]);
  }
  if (!current.empty()) batches.push_back(std::move(current));
  return batches;
}

std::vector<std::vector<std::int64_t>> fixed_batches(const std::vector<std::int64_t>& lengths,
                                                     std::int64_t batch, bool sort_by_length) {
  std::vector<std::vector<std::int64_t>> batches;
  const auto order = order_of(lengths, sort_by_length);
  for (std::size_t start = 0; start < order.size(); start += static_cast<std::size_t>(batch))
    batches.emplace_back(order.begin() + static_cast<std::ptrdiff_t>(start),
                         order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + batch)));
  return batches;
}

PaddingStats padding_of(const std::vector<std::vector<std::int64_t>>& batches,
                        const std::vector<std::int64_t>& lengths) {
  PaddingStats s;
  for (const auto& b : batches) {
    std::int64_t longest = 0;
    for (const auto i : b) {
      s.real += lengths[i];
      longest = std::max(longest, lengths[i]);
    }
    s.padded += longest * static_cast<std::int64_t>(b.size());
    ++s.batches;
  }
  return s;
}

}  // namespace relmoe
