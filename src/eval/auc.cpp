#include "eval/auc.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <tuple>

namespace relmoe {

namespace {

// Pairs sorted by score and grouped into runs of equal scores: AUC only depends on how many
// positives and negatives fall in each run, which makes bootstrap resamples O(n).
struct TieGroups {
  std::vector<std::size_t> order;  // pair indices by ascending score
  std::vector<std::size_t> group;  // group of each pair index
  std::size_t count = 0;
};

TieGroups tie_groups(const std::vector<double>& scores) {
  TieGroups t;
  t.order.resize(scores.size());
  std::iota(t.order.begin(), t.order.end(), 0);
  std::sort(t.order.begin(), t.order.end(), [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  t.group.resize(scores.size());
  for (std::size_t i = 0; i < t.order.size(); ++i) {
    if (i > 0 && scores[t.order[i]] != scores[t.order[i - 1]]) ++t.count;
    t.group[t.order[i]] = t.count;
  }
  if (!scores.empty()) ++t.count;
  return t;
}

// AUC from per-group (weighted) positive and negative counts, groups in ascending score order.
std::optional<double> auc_from_groups(const std::vector<double>& pos, const std::vector<double>& neg) {
  double neg_below = 0, total_pos = 0, u = 0;
  for (std::size_t g = 0; g < pos.size(); ++g) {
    u += pos[g] * (neg_below + 0.5 * neg[g]);
    neg_below += neg[g];
    total_pos += pos[g];
  }
  if (total_pos == 0 || neg_below == 0) return std::nullopt;
  return u / (total_pos * neg_below);
}

void check_inputs(const std::vector<double>& scores, const std::vector<float>& labels) {
  if (scores.size() != labels.size())
    fail("AUC", std::to_string(scores.size()) + " scores but " + std::to_string(labels.size()) + " labels");
  for (double s : scores)
    if (std::isnan(s)) fail("AUC", "a score is NaN");
}

// The central `level` percentile interval of `values` (sorted in place); NaNs when empty.
std::pair<double, double> percentile_interval(std::vector<double>& values, double level) {
  if (values.empty()) return {NAN, NAN};
  std::sort(values.begin(), values.end());
  auto quantile = [&](double q) {
    const double pos_q = q * static_cast<double>(values.size() - 1);
    const auto lo = static_cast<std::size_t>(std::floor(pos_q));
    const auto hi = std::min(lo + 1, values.size() - 1);
    return values[lo] + (pos_q - static_cast<double>(lo)) * (values[hi] - values[lo]);
  };
  const double tail = (1.0 - level) / 2.0;
  return {quantile(tail), quantile(1.0 - tail)};
}

}  // namespace

std::optional<double> try_roc_auc(const std::vector<double>& scores, const std::vector<float>& labels) {
  check_inputs(scores, labels);
  const TieGroups t = tie_groups(scores);
  std::vector<double> pos(t.count, 0.0), neg(t.count, 0.0);
  for (std::size_t i = 0; i < scores.size(); ++i) (labels[i] > 0.5f ? pos : neg)[t.group[i]] += 1.0;
  return auc_from_groups(pos, neg);
}

double roc_auc(const std::vector<double>& scores, const std::vector<float>& labels) {
  if (auto auc = try_roc_auc(scores, labels)) return *auc;
  fail("AUC", "undefined: the " + std::to_string(scores.size()) + " labels contain only one class");
}

std::pair<double, double> bootstrap_auc_ci(const std::vector<double>& scores,
                                           const std::vector<float>& labels, int resamples,
                                           std::uint64_t seed, double level) {
  check_inputs(scores, labels);
  if (!try_roc_auc(scores, labels)) return {NAN, NAN};
  const TieGroups t = tie_groups(scores);
  const std::size_t n = scores.size();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::vector<double> aucs;
  aucs.reserve(static_cast<std::size_t>(resamples));
  std::vector<double> pos(t.count), neg(t.count);
  // Redraws of single-class resamples are bounded so tiny inputs cannot loop for long.
  for (int attempt = 0; static_cast<int>(aucs.size()) < resamples && attempt < resamples * 20; ++attempt) {
    std::fill(pos.begin(), pos.end(), 0.0);
    std::fill(neg.begin(), neg.end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = pick(rng);
      (labels[j] > 0.5f ? pos : neg)[t.group[j]] += 1.0;
    }
    if (auto auc = auc_from_groups(pos, neg)) aucs.push_back(*auc);
  }
  return percentile_interval(aucs, level);
}

AucDifference bootstrap_auc_difference(const std::vector<double>& a, const std::vector<double>& b,
                                       const std::vector<float>& labels, int resamples, std::uint64_t seed,
                                       double level) {
  check_inputs(a, labels);
  check_inputs(b, labels);
  AucDifference d;
  d.n = static_cast<std::int64_t>(labels.size());
  const auto auc_a = try_roc_auc(a, labels), auc_b = try_roc_auc(b, labels);
  if (!auc_a || !auc_b) return {NAN, NAN, NAN, d.n};
  d.diff = *auc_a - *auc_b;
  const TieGroups ta = tie_groups(a), tb = tie_groups(b);
  const std::size_t n = labels.size();
  std::mt19937_64 rng(seed);
  std::uniform_int_distribution<std::size_t> pick(0, n - 1);
  std::vector<double> diffs;
  diffs.reserve(static_cast<std::size_t>(resamples));
  std::vector<double> pos_a(ta.count), neg_a(ta.count), pos_b(tb.count), neg_b(tb.count);
  for (int attempt = 0; static_cast<int>(diffs.size()) < resamples && attempt < resamples * 20; ++attempt) {
    for (auto* v : {&pos_a, &neg_a, &pos_b, &neg_b}) std::fill(v->begin(), v->end(), 0.0);
    for (std::size_t i = 0; i < n; ++i) {
      const std::size_t j = pick(rng);  // one resample of pairs, scored by both a and b
      const bool positive = labels[j] > 0.5f;
      (positive ? pos_a : neg_a)[ta.group[j]] += 1.0;
      (positive ? pos_b : neg_b)[tb.group[j]] += 1.0;
    }
    const auto ra = auc_from_groups(pos_a, neg_a), rb = auc_from_groups(pos_b, neg_b);
    if (ra && rb) diffs.push_back(*ra - *rb);
  }
  std::tie(d.lo, d.hi) = percentile_interval(diffs, level);
  return d;
}

}  // namespace relmoe
