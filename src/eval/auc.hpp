#pragma once
// ROC AUC as the normalised Mann-Whitney U statistic (tied scores count one half, exactly as
// scikit-learn's roc_auc_score), and percentile bootstrap intervals for it.
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

namespace relmoe {

// AUC of `scores` against binary `labels` (> 0.5 is positive). Throws relmoe::Error when the
// sizes differ or one class is absent (AUC is undefined).
double roc_auc(const std::vector<double>& scores, const std::vector<float>& labels);
// As roc_auc, but nullopt instead of an error when one class is absent.
std::optional<double> try_roc_auc(const std::vector<double>& scores, const std::vector<float>& labels);

// 95% (or `level`) percentile bootstrap interval of the AUC over `resamples` resamples of the
// pairs with replacement (resamples that miss a class are redrawn). Deterministic given `seed`.
std::pair<double, double> bootstrap_auc_ci(const std::vector<double>& scores,
                                           const std::vector<float>& labels, int resamples = 1000,
                                           std::uint64_t seed = 0, double level = 0.95);

struct AucDifference {
  double diff = 0;  // AUC(a) - AUC(b); NaN when undefined
  double lo = 0, hi = 0;
  std::int64_t n = 0;
};

// AUC(a) - AUC(b) for two score lists over the same labelled pairs, with a paired percentile
// bootstrap interval: each resample draws pairs once and scores them with both a and b, so the
// interval reflects the difference's own variance, not that of two independent AUCs.
AucDifference bootstrap_auc_difference(const std::vector<double>& a, const std::vector<double>& b,
                                       const std::vector<float>& labels, int resamples = 1000,
                                       std::uint64_t seed = 0, double level = 0.95);

}  // namespace relmoe
