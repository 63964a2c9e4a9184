#pragma once
// The report page's three chart kinds as inline SVG strings (src/eval/svg): a radar of per-market
// AUC per expert, a 2-D scatter coloured by class (t-SNE maps), and horizontal stacked bars
// (expert usage per market). Series i is drawn in svg::colour(i) everywhere, so one expert keeps
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

}  // namespace relmoe::charts
