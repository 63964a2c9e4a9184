#pragma once
// bad-ratio@K, the paper's online metric: among each query's top-K candidates by score, the share
// judged irrelevant (label 0), averaged over the queries that have more than K labelled
// candidates (so every query contributes exactly K judged items). Ties in score keep the input
// order.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace relmoe {

struct BadRatio {
  double value = 0;  // NaN when no query qualifies
  std::int64_t queries = 0;
  std::vector<double> per_query;  // each qualifying query's share, in sorted query order
};

// `groups[i]` names the query (e.g. market + query) of pair i.
BadRatio bad_ratio_at_k(const std::vector<std::string>& groups, const std::vector<double>& scores,
                        const std::vector<float>& labels, int k);

// Percentile bootstrap interval of the mean of `values` (resampling them with replacement), and
// of mean(a) - mean(b) for values paired by position (both resampled with the same draws).
std::pair<double, double> bootstrap_mean_ci(const std::vector<double>& values, int resamples = 1000,
                                            std::uint64_t seed = 0, double level = 0.95);
std::pair<double, double> bootstrap_mean_difference_ci(const std::vector<double>& a, const std::vector<double>& b,
                                                       int resamples = 1000, std::uint64_t seed = 0,
                                                       double level = 0.95);

}  // namespace relmoe
