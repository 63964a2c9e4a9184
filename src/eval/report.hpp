#pragma once
// Evaluation reports: overall and per-market AUC with bootstrap intervals, expert usage per
// market and expected active experts per pair. JSON contract (read by checks and the report page):
//   {"overall": {"auc": x, "ci": [lo, hi], "n": N},
//    "markets": {"<market>": {"auc": x, "ci": [lo, hi], "n": N}, ...},
//    "usage": {"<market>": {"<expert>": fraction, ...}, ...}, "active_experts": x,
//    "mean_cost_s": seconds of expert compute per pair (present when every expert's cost is known)}
// An undefined AUC (one class only) is written as null.
#include <nlohmann/json.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace relmoe {

struct AucMetric {
  double auc = 0;  // NaN when undefined
  double lo = 0, hi = 0;
  std::int64_t n = 0;
};

struct EvalReport {
  AucMetric overall;
  std::map<std::string, AucMetric> markets;
  std::map<std::string, std::map<std::string, double>> usage;
  double active_experts = 0;
  double mean_cost = 0;  // seconds per pair; 0 when the experts' costs are unknown
};

struct EvalInput {
  std::vector<double> scores;
  std::vector<float> labels;
  std::vector<std::string> markets;
  std::vector<std::string> experts;
  // active[i * experts.size() + e] != 0 when expert e ran for pair i.
  std::vector<std::uint8_t> active;
  std::vector<double> costs;  // seconds per pair of each expert (empty or a 0: unknown)
};

// Throws relmoe::Error on inconsistent sizes or empty input.
EvalReport evaluate(const EvalInput& input, int resamples = 1000, std::uint64_t seed = 0);

nlohmann::json to_json(const EvalReport& report);
EvalReport report_from_json(const nlohmann::json& j);

// One Markdown table row per market plus "overall": AUC (%) with interval and n.
std::string markdown(const EvalReport& report);

// Usage table: markets as rows, experts as columns (fractions in %).
std::string usage_markdown(const EvalReport& report);

}  // namespace relmoe
