#include "eval/comparison.hpp"

#include "base/error.hpp"
#include "eval/auc.hpp"
#include "eval/report.hpp"

#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>

namespace relmoe {

namespace {

nlohmann::json number(double x) { return std::isnan(x) ? nlohmann::json(nullptr) : nlohmann::json(x); }

nlohmann::json difference_json(const AucDifference& d) {
  const char* outcome = std::isnan(d.lo) ? "undefined" : d.lo > 0 ? "higher" : d.hi < 0 ? "lower" : "not significant";
  return {{"diff", number(d.diff)}, {"ci", {number(d.lo), number(d.hi)}}, {"n", d.n}, {"outcome", outcome}};
}

nlohmann::json compare(const std::string& a, const std::string& b, const ScoredPairs& sa, const ScoredPairs& sb,
                       int resamples, std::uint64_t seed) {
  if (sa.ids != sb.ids) fail("comparison " + a + " vs " + b, "the two variants were scored on different pairs");
  nlohmann::json out = {{"a", a}, {"b", b}};
  out["overall"] = difference_json(bootstrap_auc_difference(sa.scores, sb.scores, sa.labels, resamples, seed));
  std::map<std::string, std::vector<std::size_t>> by_market;
  for (std::size_t i = 0; i < sa.ids.size(); ++i) by_market[sa.markets[i]].push_back(i);
  out["markets"] = nlohmann::json::object();
  for (const auto& [market, rows] : by_market) {
    std::vector<double> x, y;
    std::vector<float> labels;
    for (auto i : rows) {
      x.push_back(sa.scores[i]);
      y.push_back(sb.scores[i]);
      labels.push_back(sa.labels[i]);
    }
    out["markets"][market] = difference_json(bootstrap_auc_difference(x, y, labels, resamples, seed));
  }
  return out;
}

// The single-expert variants whose spread per market the report shows: the experts' own scores
// (single:*), or their probes when the store has no scores.
std::vector<std::string> expert_variants(const nlohmann::json& variants) {
  std::vector<std::string> single, probe;
  for (const auto& [name, report] : variants.items()) {
    if (name.rfind("single:", 0) == 0) single.push_back(name);
    if (name.rfind("probe:", 0) == 0) probe.push_back(name);
  }
  return single.empty() ? probe : single;
}

// Per market: the best minus the worst expert there (by test AUC), with a paired interval.
nlohmann::json expert_spread(const nlohmann::json& variants,
                             const std::function<ScoredPairs(const std::string&)>& scores_of, int resamples,
                             std::uint64_t seed) {
  const auto experts = expert_variants(variants);
  nlohmann::json out = nlohmann::json::object();
  if (experts.size() < 2) return out;
  std::map<std::string, ScoredPairs> scores;
  for (const auto& e : experts) scores[e] = scores_of(e);
  for (const auto& [market, metric] : variants.at(experts[0]).at("markets").items()) {
    std::string best, worst;
    double hi = -1, lo = 2;
    for (const auto& e : experts) {
      const auto& auc = variants.at(e).at("markets").value(market, nlohmann::json::object()).value("auc", nlohmann::json());
      if (auc.is_null()) continue;
      if (auc.get<double>() > hi) hi = auc.get<double>(), best = e;
      if (auc.get<double>() < lo) lo = auc.get<double>(), worst = e;
    }
    if (best.empty() || best == worst) continue;
    const auto& a = scores[best];
    const auto& b = scores[worst];
    if (a.ids != b.ids) fail("expert spread " + best + " vs " + worst, "the two variants were scored on different pairs");
    std::vector<double> x, y;
    std::vector<float> labels;
    for (std::size_t i = 0; i < a.ids.size(); ++i)
      if (a.markets[i] == market) x.push_back(a.scores[i]), y.push_back(b.scores[i]), labels.push_back(a.labels[i]);
    out[market] = difference_json(bootstrap_auc_difference(x, y, labels, resamples, seed));
    out[market]["a"] = best;
    out[market]["b"] = worst;
  }
  return out;
}

std::string best_single(const nlohmann::json& variants) {
  std::string best;
  double best_auc = -1;
  for (const auto& [name, report] : variants.items()) {
    if (name.rfind("single:", 0) != 0 && name.rfind("probe:", 0) != 0) continue;
    const auto& auc = report.at("overall").at("auc");
    if (!auc.is_null() && auc.get<double>() > best_auc) best = name, best_auc = auc.get<double>();
  }
  return best;
}

}  // namespace

nlohmann::json headline_comparisons(const nlohmann::json& ablation,
                                    const std::function<ScoredPairs(const std::string&)>& scores_of, int resamples,
                                    std::uint64_t seed) {
  const auto& variants = ablation.at("variants");
  nlohmann::json out = nlohmann::json::object();
  const std::string best = best_single(variants);
  const std::string moe = "moe:hard:concat", weighted = "moe:hard:weighted";
  out["expert_spread"] = expert_spread(variants, scores_of, resamples, seed);
  if (!variants.contains(moe)) return out;
  const auto moe_scores = scores_of(moe);
  if (!best.empty()) {
    out["best_single"] = best;
    out["moe_vs_best_single"] = compare(moe, best, moe_scores, scores_of(best), resamples, seed);
  }
  if (variants.contains(weighted))
    out["concat_vs_weighted"] = compare(moe, weighted, moe_scores, scores_of(weighted), resamples, seed);
  return out;
}

std::string difference_text(const std::string& a, const std::string& b, const nlohmann::json& d) {
  auto points = [](const nlohmann::json& x) {
    if (x.is_null()) return std::string("n/a");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%+.2f", 100.0 * x.get<double>());
    return std::string(buf);
  };
  return a + " − " + b + ": " + points(d.at("diff")) + " AUC points (95% CI " + points(d.at("ci").at(0)) + " to " +
         points(d.at("ci").at(1)) + "), " + d.at("outcome").get<std::string>();
}

std::string comparisons_markdown(const nlohmann::json& c) {
  std::string md;
  if (c.contains("best_single")) md += "- best single expert (highest test AUC): " + c["best_single"].get<std::string>() + "\n";
  for (const char* key : {"moe_vs_best_single", "concat_vs_weighted"})
    if (c.contains(key))
      md += "- " + difference_text(c[key]["a"], c[key]["b"], c[key]["overall"]) + "\n";
  if (c.contains("expert_spread") && !c["expert_spread"].empty()) {
    md += "- per market, best minus worst single expert:\n";
    for (const auto& [market, d] : c["expert_spread"].items())
      md += "  - " + market + ": " + difference_text(d["a"], d["b"], d) + "\n";
  }
  return md;
}

}  // namespace relmoe
