#include "eval/report.hpp"

#include "base/error.hpp"
#include "eval/auc.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

namespace relmoe {

namespace {

AucMetric metric(const std::vector<double>& scores, const std::vector<float>& labels, int resamples,
                 std::uint64_t seed) {
  AucMetric m;
  m.n = static_cast<std::int64_t>(scores.size());
  m.auc = try_roc_auc(scores, labels).value_or(NAN);
  std::tie(m.lo, m.hi) = bootstrap_auc_ci(scores, labels, resamples, seed);
  return m;
}

nlohmann::json number(double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); }
double number(const nlohmann::json& j) { return j.is_null() ? NAN : j.get<double>(); }

nlohmann::json metric_json(const AucMetric& m) {
  return {{"auc", number(m.auc)}, {"ci", {number(m.lo), number(m.hi)}}, {"n", m.n}};
}

AucMetric metric_from(const nlohmann::json& j) {
  return {number(j.at("auc")), number(j.at("ci").at(0)), number(j.at("ci").at(1)), j.at("n").get<std::int64_t>()};
}

std::string percent(double x) {
  if (std::isnan(x)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", 100.0 * x);
  return buf;
}

std::string metric_cells(const AucMetric& m) {
  return percent(m.auc) + " | " + percent(m.lo) + "–" + percent(m.hi) + " | " + std::to_string(m.n);
}

}  // namespace

EvalReport evaluate(const EvalInput& in, int resamples, std::uint64_t seed) {
  const std::size_t n = in.scores.size(), k = in.experts.size();
  if (n == 0) fail("evaluate", "no pairs to evaluate");
  if (in.labels.size() != n || in.markets.size() != n || in.active.size() != n * k)
    fail("evaluate", "inconsistent sizes: " + std::to_string(n) + " scores, " + std::to_string(in.labels.size()) +
                         " labels, " + std::to_string(in.markets.size()) + " markets, " +
                         std::to_string(in.active.size()) + " usage flags for " + std::to_string(k) + " experts");
  EvalReport r;
  r.overall = metric(in.scores, in.labels, resamples, seed);
  std::map<std::string, std::vector<std::size_t>> by_market;
  for (std::size_t i = 0; i < n; ++i) by_market[in.markets[i]].push_back(i);
  double active_total = 0;
  for (std::size_t i = 0; i < n * k; ++i) active_total += in.active[i] != 0;
  r.active_experts = active_total / static_cast<double>(n);
  if (in.costs.size() == k && std::all_of(in.costs.begin(), in.costs.end(), [](double c) { return c > 0; })) {
    double spent = 0;
    for (std::size_t i = 0; i < n * k; ++i) spent += in.active[i] != 0 ? in.costs[i % k] : 0.0;
    r.mean_cost = spent / static_cast<double>(n);
  }
  for (const auto& [market, rows] : by_market) {
    std::vector<double> s;
    std::vector<float> l;
    std::vector<double> used(k, 0.0);
    for (std::size_t i : rows) {
      s.push_back(in.scores[i]);
      l.push_back(in.labels[i]);
      for (std::size_t e = 0; e < k; ++e) used[e] += in.active[i * k + e] != 0;
    }
    r.markets[market] = metric(s, l, resamples, seed);
    for (std::size_t e = 0; e < k; ++e) r.usage[market][in.experts[e]] = used[e] / static_cast<double>(rows.size());
  }
  return r;
}

nlohmann::json to_json(const EvalReport& r) {
  nlohmann::json markets = nlohmann::json::object(), usage = nlohmann::json::object();
  for (const auto& [m, metric] : r.markets) markets[m] = metric_json(metric);
  for (const auto& [m, per] : r.usage) usage[m] = per;
  nlohmann::json j = {{"overall", metric_json(r.overall)},
                      {"markets", markets},
                      {"usage", usage},
                      {"active_experts", r.active_experts}};
  if (r.mean_cost > 0) j["mean_cost_s"] = r.mean_cost;
  return j;
}

EvalReport report_from_json(const nlohmann::json& j) {
  EvalReport r;
  r.overall = metric_from(j.at("overall"));
  for (const auto& [m, v] : j.at("markets").items()) r.markets[m] = metric_from(v);
  for (const auto& [m, v] : j.at("usage").items())
    r.usage[m] = v.get<std::map<std::string, double>>();
  r.active_experts = j.at("active_experts").get<double>();
  r.mean_cost = j.value("mean_cost_s", 0.0);
  return r;
}

std::string markdown(const EvalReport& r) {
  std::string out = "| market | AUC (%) | 95% CI | n |\n|---|---:|---:|---:|\n";
  out += "| overall | " + metric_cells(r.overall) + " |\n";
  for (const auto& [m, metric] : r.markets) out += "| " + m + " | " + metric_cells(metric) + " |\n";
  char buf[64];
  std::snprintf(buf, sizeof buf, "\nexpected active experts per pair: %.3f\n", r.active_experts);
  out += buf;
  if (r.mean_cost > 0) {
    std::snprintf(buf, sizeof buf, "mean expert cost per pair: %.3f ms\n", 1e3 * r.mean_cost);
    out += buf;
  }
  return out;
}

std::string usage_markdown(const EvalReport& r) {
  std::set<std::string> experts;
  for (const auto& [m, per] : r.usage)
    for (const auto& [e, f] : per) experts.insert(e);
  std::string out = "| market |";
  std::string rule = "|---|";
  for (const auto& e : experts) {
    out.append(" ").append(e).append(" (%) |");
    rule += "---:|";
  }
  out += "\n" + rule + "\n";
  for (const auto& [m, per] : r.usage) {
    out += "| " + m + " |";
    for (const auto& e : experts) out += " " + percent(per.count(e) ? per.at(e) : 0.0) + " |";
    out += "\n";
  }
  return out;
}

}  // namespace relmoe
