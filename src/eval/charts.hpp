#pragma once
// The report page's chart kinds as inline SVG strings (src/eval/svg): a radar of per-market
// AUC per expert, a 2-D scatter coloured by class (t-SNE maps), horizontal stacked bars
// (expert usage per market) and the AUC-against-cost curve of the variants. Series i is drawn in svg::colour(i) everywhere, so one expert keeps
// its colour across charts when callers pass experts in the same order.
#include <string>
#include <string_view>
#include <vector>

namespace relmoe::charts {

struct Series {
  std::string name;
  std::vector<double> values;  // one per axis; NaN: no value (drawn at the centre, no marker)
};

// One spoke per axis, a closed polygon per series; values map linearly from `lo` (centre) to
// `hi` (rim), clamped. Rings label the scale in percent.
std::string radar(const std::vector<std::string>& axes, const std::vector<Series>& series, double lo, double hi,
                  std::string_view label);

// Points (x[i], y[i]) coloured by classes[i] (an index into class_names), one scale for both
// axes so distances keep their proportions.
std::string scatter(const std::vector<double>& x, const std::vector<double>& y, const std::vector<int>& classes,
                    const std::vector<std::string>& class_names, std::string_view label);

// One bar per row, split into segments of the given fractions (summing to at most 1).
std::string stacked_bars(const std::vector<std::string>& rows, const std::vector<std::string>& segments,
                         const std::vector<std::vector<double>>& fractions, std::string_view label);

struct CostPoint {
  std::string name;
  double cost = 0;  // mean expert seconds per pair (> 0)
  double auc = 0;
};

// The points on a log cost axis against AUC, each labelled, the Pareto frontier (no other point
// is both cheaper and better) joined by a line and its points filled.
std::string cost_curve(const std::vector<CostPoint>& points, std::string_view label);

// Indices of the points on the Pareto frontier, by increasing cost.
std::vector<std::size_t> pareto_frontier(const std::vector<CostPoint>& points);

}  // namespace relmoe::charts
