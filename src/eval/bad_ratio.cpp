#include "eval/bad_ratio.hpp"

#include "base/error.hpp"
#include "base/rng.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>

namespace relmoe {

BadRatio bad_ratio_at_k(const std::vector<std::string>& groups, const std::vector<double>& scores,
                        const std::vector<float>& labels, int k) {
  if (groups.size() != scores.size() || scores.size() != labels.size())
    fail("bad-ratio", "groups, scores and labels differ in length");
  if (k < 1) fail("bad-ratio", "K must be at least 1");
  std::map<std::string, std::vector<std::size_t>> by_query;
  for (std::size_t i = 0; i < groups.size(); ++i) by_query[groups[i]].push_back(i);
  BadRatio r;
  double sum = 0;
  for (auto& [query, rows] : by_query) {
    if (rows.size() <= static_cast<std::size_t>(k)) continue;
    std::stable_sort(rows.begin(), rows.end(), [&](std::size_t a, std::size_t b) { return scores[a] > scores[b]; });
    int bad = 0;
    for (int i = 0; i < k; ++i) bad += labels[rows[static_cast<std::size_t>(i)]] <= 0.5f ? 1 : 0;
    r.per_query.push_back(static_cast<double>(bad) / k);
    sum += r.per_query.back();
    ++r.queries;
  }
  r.value = r.queries > 0 ? sum / static_cast<double>(r.queries) : std::nan("");
  return r;
}

std::pair<double, double> bootstrap_mean_difference_ci(const std::vector<double>& a, const std::vector<double>& b,
                                                       int resamples, std::uint64_t seed, double level) {
  if (a.size() != b.size()) fail("bootstrap", "paired values differ in length");
  if (a.empty()) return {std::nan(""), std::nan("")};
  Rng rng(seed);
  std::vector<double> means;
  for (int r = 0; r < resamples; ++r) {
    double sum = 0;
    for (std::size_t i = 0; i < a.size(); ++i) {
      const auto j = rng.below(a.size());
      sum += a[j] - b[j];
    }
    means.push_back(sum / static_cast<double>(a.size()));
  }
  std::sort(means.begin(), means.end());
  const double tail = (1 - level) / 2;
  auto at = [&](double q) { return means[static_cast<std::size_t>(q * static_cast<double>(means.size() - 1) + 0.5)]; };
  return {at(tail), at(1 - tail)};
}

std::pair<double, double> bootstrap_mean_ci(const std::vector<double>& values, int resamples, std::uint64_t seed,
                                            double level) {
  return bootstrap_mean_difference_ci(values, std::vector<double>(values.size(), 0.0), resamples, seed, level);
}

}  // namespace relmoe
