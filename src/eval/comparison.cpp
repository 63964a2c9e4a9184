#include "eval/comparison.hpp"

#include "base/error.hpp"
#include "eval/auc.hpp"
#include "eval/report.hpp"

#include <algorithm>
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

bool is_single(const std::string& name) { return name.rfind("single:", 0) == 0 || name.rfind("probe:", 0) == 0; }

std::string expert_of(const std::string& single) { return single.substr(single.find(':') + 1); }

// The single-expert variant with the highest test AUC, among experts `keep` accepts.
std::string best_single(const nlohmann::json& variants,
                        const std::function<bool(const std::string&)>& keep = [](const std::string&) { return true; }) {
  std::string best;
  double best_auc = -1;
  for (const auto& [name, report] : variants.items()) {
    if (!is_single(name) || !keep(expert_of(name))) continue;
    const auto& auc = report.at("overall").at("auc");
    if (!auc.is_null() && auc.get<double>() > best_auc) best = name, best_auc = auc.get<double>();
  }
  return best;
}

double dev_auc(const nlohmann::json& ablation, const std::string& variant) {
  const auto& dev = ablation.value("dev_auc", nlohmann::json::object());
  return dev.contains(variant) ? dev[variant].get<double>() : NAN;
}

// The cheapest hard-routed variant within 0.3 points of full fusion on dev ("" if none).
std::string routed_choice(const nlohmann::json& ablation) {
  const auto& variants = ablation.at("variants");
  const double full = dev_auc(ablation, "full:concat");
  if (std::isnan(full)) return "";
  std::string best;
  double cheapest = INFINITY;
  for (const auto& [name, report] : variants.items()) {
    if (name != "moe:hard:concat" && name.rfind("moe:cost:", 0) != 0) continue;
    if (!(dev_auc(ablation, name) >= full - 0.003) || !report.contains("mean_cost_s")) continue;
    if (report["mean_cost_s"].get<double>() < cheapest) cheapest = report["mean_cost_s"].get<double>(), best = name;
  }
  return best;
}

nlohmann::json headline_rows(const nlohmann::json& ablation, const nlohmann::json& c) {
  const auto& variants = ablation.at("variants");
  nlohmann::json rows = nlohmann::json::array();
  auto add = [&](const std::string& label, const std::string& variant) {
    if (!variant.empty() && variants.contains(variant)) rows.push_back({{"label", label}, {"variant", variant}});
  };
  add("lexical expert alone", c.value("lexical", ""));
  add("lexical expert alone, through the fusion classifier", c.value("lexical_mlp", ""));
  add("LLM experts: best single", c.value("best_llm_single", ""));
  add("LLM experts: full fusion", "llm:full:concat");
  add("LLM experts: MoE (hard, concat)", "llm:moe:hard:concat");
  add("all experts: full fusion", "full:concat");
  add("all experts: MoE (hard, concat)", "moe:hard:concat");
  add("all experts: cost-aware routing chosen on dev", c.value("routed", ""));
  return rows;
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
  const auto features = ablation.value("feature_experts", std::vector<std::string>{});
  if (!features.empty()) {
    const auto is_llm = [&](const std::string& e) { return std::find(features.begin(), features.end(), e) == features.end(); };
    const std::string lexical = variants.contains("single:" + features[0]) ? "single:" + features[0] : "probe:" + features[0];
    if (variants.contains(lexical)) {
      out["lexical"] = lexical;
      out["all_vs_lexical"] = compare(moe, lexical, moe_scores, scores_of(lexical), resamples, seed);
    }
    if (const auto mlp = "mlp:" + features[0]; variants.contains(mlp)) {
      out["lexical_mlp"] = mlp;
      out["all_vs_lexical_mlp"] = compare(moe, mlp, moe_scores, scores_of(mlp), resamples, seed);
    }
    const std::string llm_moe = "llm:moe:hard:concat", llm_best = best_single(variants, is_llm);
    if (variants.contains(llm_moe)) {
      const auto llm_scores = scores_of(llm_moe);
      out["all_vs_llm_moe"] = compare(moe, llm_moe, moe_scores, llm_scores, resamples, seed);
      if (!llm_best.empty()) {
        out["best_llm_single"] = llm_best;
        out["llm_moe_vs_best_llm_single"] = compare(llm_moe, llm_best, llm_scores, scores_of(llm_best), resamples, seed);
      }
    }
  }
  if (const auto routed = routed_choice(ablation); !routed.empty()) {
    out["routed"] = routed;
    out["routed_vs_full"] = compare(routed, "full:concat", scores_of(routed), scores_of("full:concat"), resamples, seed);
  }
  out["headline"] = headline_rows(ablation, out);
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

std::string headline_markdown(const nlohmann::json& ablation) {
  const auto rows = ablation.value("comparisons", nlohmann::json::object()).value("headline", nlohmann::json::array());
  if (rows.empty()) return "";
  auto pct = [](const nlohmann::json& x) {
    if (x.is_null()) return std::string("n/a");
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.2f", 100.0 * x.get<double>());
    return std::string(buf);
  };
  std::string md = "| | variant | AUC (%) | 95% CI | cost (ms/pair) |\n|---|---|---:|---:|---:|\n";
  for (const auto& row : rows) {
    const auto& v = ablation.at("variants").at(row.at("variant").get<std::string>());
    const auto& o = v.at("overall");
    char cost[32] = "–";
    if (v.contains("mean_cost_s")) std::snprintf(cost, sizeof cost, "%.3f", 1e3 * v["mean_cost_s"].get<double>());
    md += "| " + row.at("label").get<std::string>() + " | " + row.at("variant").get<std::string>() + " | " + pct(o.at("auc")) +
          " | " + pct(o.at("ci").at(0)) + "–" + pct(o.at("ci").at(1)) + " | " + cost + " |\n";
  }
  return md;
}

std::string comparisons_markdown(const nlohmann::json& c) {
  std::string md;
  if (c.contains("best_single")) md += "- best single expert (highest test AUC): " + c["best_single"].get<std::string>() + "\n";
  for (const char* key : {"moe_vs_best_single", "concat_vs_weighted", "all_vs_lexical", "all_vs_lexical_mlp", "all_vs_llm_moe",
                          "llm_moe_vs_best_llm_single", "routed_vs_full"}) {
    if (!c.contains(key)) continue;
    const auto line = "- " + difference_text(c[key]["a"], c[key]["b"], c[key]["overall"]) + "\n";
    if (md.find(line) == std::string::npos) md += line;  // all_vs_lexical is often moe_vs_best_single
  }
  if (c.contains("expert_spread") && !c["expert_spread"].empty()) {
    md += "- per market, best minus worst single expert:\n";
    for (const auto& [market, d] : c["expert_spread"].items())
      md += "  - " + market + ": " + difference_text(d["a"], d["b"], d) + "\n";
  }
  return md;
}

}  // namespace relmoe
