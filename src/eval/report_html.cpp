#include "eval/report_html.hpp"

#include "eval/charts.hpp"
#include "eval/comparison.hpp"
#include "eval/svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

namespace relmoe {

namespace {

using svg::escape;
using Json = nlohmann::json;

constexpr const char* kStyle = R"(
body { font-family: sans-serif; margin: 24px auto; max-width: 1240px; color: #222; }
h1 { font-size: 24px; } h2 { font-size: 19px; margin-top: 34px; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-size: 13px; margin: 8px 0; }
th, td { border: 1px solid #ddd; padding: 3px 7px; text-align: right; white-space: nowrap; }
th:first-child, td:first-child { text-align: left; }
thead th { background: #f4f4f4; }
td.best { background: #fff2b3; font-weight: bold; }
tr.group td { background: #fafafa; color: #777; text-align: left; font-style: italic; }
.outcome { border: 1px solid #ccc; background: #f9f9f9; padding: 8px 16px; }
.higher { color: #1a7f37; } .lower { color: #b42318; } .ns { color: #555; }
.figures { display: flex; gap: 32px; flex-wrap: wrap; }
figure { margin: 0; } figcaption { font-size: 13px; color: #555; max-width: 640px; }
.note { font-size: 13px; color: #555; }
)";

double number(const Json& j) { return j.is_null() ? NAN : j.get<double>(); }

std::string pct(double x, int decimals = 2) { return std::isnan(x) ? "n/a" : svg::num(100 * x, decimals); }

std::string points(double x) {
  if (std::isnan(x)) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.2f", 100 * x);
  return buf;
}

std::vector<std::string> variant_order(const Json& report) {
  std::vector<std::string> order;
  if (report.contains("order")) order = report["order"].get<std::vector<std::string>>();
  for (const auto& [name, v] : report.at("variants").items())
    if (std::find(order.begin(), order.end(), name) == order.end()) order.push_back(name);
  return order;
}

std::vector<std::string> market_names(const Json& variants) {
  std::set<std::string> markets;
  for (const auto& [name, v] : variants.items())
    for (const auto& [m, metric] : v.at("markets").items()) markets.insert(m);
  return {markets.begin(), markets.end()};
}

// "single", "probe", "fusion", "full", "moe": the variant's family in Table 1.
std::string group_of(const std::string& variant) { return variant.substr(0, variant.find(':')); }

std::string group_title(const std::string& group) {
  if (group == "single") return "single experts (their own yes/no answer score)";
  if (group == "probe") return "single experts (linear probe on the hidden state)";
  if (group == "fusion") return "pairwise fusion (both experts always run)";
  if (group == "full") return "full fusion (every expert always runs)";
  if (group == "moe") return "mixture of experts (routed)";
  if (group == "llm") return "the LLM experts alone (no feature expert)";
  if (group == "mlp") return "a feature expert alone through the fusion classifier";
  return group;
}

// AUC cell with the interval and n as a tooltip; `best` highlights it.
std::string auc_cell(const Json& metric, bool best) {
  const double auc = number(metric.at("auc"));
  const std::string tip = "AUC " + pct(auc) + " (95% CI " + pct(number(metric.at("ci").at(0))) + "–" +
                          pct(number(metric.at("ci").at(1))) + "), n=" + std::to_string(metric.at("n").get<long>());
  return std::string("<td") + (best ? " class=\"best\"" : "") + " title=\"" + escape(tip) + "\">" + pct(auc) + "</td>";
}

const Json* metric_of(const Json& variant, const std::string& market) {
  if (market.empty()) return &variant.at("overall");
  const auto& m = variant.at("markets");
  return m.contains(market) ? &m.at(market) : nullptr;
}

// Highest AUC of a column ("" = overall) over the variants, for highlighting.
double column_best(const Json& variants, const std::string& market) {
  double best = -1;
  for (const auto& [name, v] : variants.items())
    if (const Json* m = metric_of(v, market)) best = std::max(best, std::isnan(number(m->at("auc"))) ? -1.0 : number(m->at("auc")));
  return best;
}

std::string cost_text(const Json& variant) {
  return variant.contains("mean_cost_s") ? svg::num(1e3 * variant["mean_cost_s"].get<double>(), 3) : "–";
}

std::string table1(const Json& report) {
  const auto& variants = report.at("variants");
  const auto markets = market_names(variants);
  std::vector<std::string> columns{""};
  columns.insert(columns.end(), markets.begin(), markets.end());
  std::vector<double> best;
  for (const auto& c : columns) best.push_back(column_best(variants, c));
  std::string h = "<table id=\"table1\"><thead><tr><th>variant</th><th>overall</th>";
  for (const auto& m : markets) h += "<th>" + escape(m) + "</th>";
  h += "<th>active experts</th><th>cost ms/pair</th><th>d</th><th>train s</th></tr></thead><tbody>\n";
  std::string group;
  for (const auto& name : variant_order(report)) {
    if (group_of(name) != group) {
      group = group_of(name);
      h += "<tr class=\"group\"><td colspan=\"" + std::to_string(columns.size() + 5) + "\">" + escape(group_title(group)) +
           "</td></tr>\n";
    }
    const auto& v = variants.at(name);
    h += "<tr data-variant=\"" + escape(name) + "\"><td>" + escape(name) + "</td>";
    for (std::size_t c = 0; c < columns.size(); ++c) {
      const Json* m = metric_of(v, columns[c]);
      h += m ? auc_cell(*m, number(m->at("auc")) == best[c]) : "<td>–</td>";
    }
    const auto& seconds = report.value("train_seconds", Json::object());
    const auto& capacity = report.value("capacity", Json::object());
    h += "<td>" + svg::num(v.at("active_experts").get<double>(), 2) + "</td><td>" + cost_text(v) + "</td><td>" +
         (capacity.contains(name) ? std::to_string(capacity[name]["chosen"].get<long>()) : "–") + "</td><td>" +
         (seconds.contains(name) ? svg::num(seconds[name].get<double>(), 1) : "–") + "</td></tr>\n";
  }
  return h + "</tbody></table>\n";
}

std::string table2(const Json& report) {
  const auto& variants = report.at("variants");
  using Rows = std::vector<std::pair<std::string, std::string>>;
  const Rows fusion{{"Weighted fusion", "moe:hard:weighted"},
                                                                {"Concatenation", "moe:hard:concat"}};
  const Rows routing{{"Rule-based", "moe:rule:concat"},
                                                                 {"Pseudo-label", "moe:pseudo:concat"},
                                                                 {"Soft routing", "moe:soft:concat"},
                                                                 {"Hard routing (k=2)", "moe:hard:concat"},
                                                                 {"Full fusion (no routing)", "full:concat"}};
  auto rows = [&](const std::string& title, const Rows& list) {
    std::string h = "<tr class=\"group\"><td colspan=\"4\">" + title + "</td></tr>\n";
    for (const auto& [label, name] : list) {
      if (!variants.contains(name)) continue;
      const auto& v = variants[name];
      h += "<tr><td>" + escape(label) + "</td><td>" + escape(name) + "</td>" + auc_cell(v.at("overall"), false) +
           "<td>" + svg::num(v.at("active_experts").get<double>(), 2) + "</td></tr>\n";
    }
    return h;
  };
  return "<table id=\"table2\"><thead><tr><th>method</th><th>variant</th><th>AUC (%)</th><th>active experts</th></tr></thead><tbody>\n" +
         rows("fusion strategies (hard routing)", fusion) + rows("routing strategies (concat fusion)", routing) +
         "</tbody></table>\n";
}

std::string outcome_line(const Json& c, const std::string& key, const std::string& label) {
  if (!c.contains(key)) return "";
  const auto& d = c[key]["overall"];
  const auto outcome = d.at("outcome").get<std::string>();
  return "<p>" + escape(label) + ": <b class=\"" + (outcome == "not significant" ? "ns" : outcome) + "\">" +
         escape(difference_text(c[key]["a"], c[key]["b"], d)) + "</b></p>\n";
}

// Per-market AUC differences of one comparison.
std::string comparison_table(const Json& c, const std::string& key) {
  if (!c.contains(key)) return "";
  std::string h = "<table><thead><tr><th>market</th><th>" + escape(c[key]["a"].get<std::string>()) + " − " +
                  escape(c[key]["b"].get<std::string>()) + " (points)</th><th>95% CI</th><th>n</th></tr></thead><tbody>\n";
  for (const auto& [m, d] : c[key]["markets"].items())
    h += "<tr><td>" + escape(m) + "</td><td>" + points(number(d["diff"])) + "</td><td>" + points(number(d["ci"][0])) +
         " to " + points(number(d["ci"][1])) + "</td><td>" + std::to_string(d["n"].get<long>()) + "</td></tr>\n";
  return h + "</tbody></table>\n";
}

// The headline rows (comparisons.headline): AUC, interval and mean cost per pair.
std::string headline_table(const Json& report) {
  const auto rows = report.value("comparisons", Json::object()).value("headline", Json::array());
  if (rows.empty()) return "";
  std::string h = "<table id=\"headline\"><thead><tr><th></th><th>variant</th><th>AUC (%)</th><th>cost ms/pair</th>"
                  "</tr></thead><tbody>\n";
  for (const auto& row : rows) {
    const auto& v = report.at("variants").at(row.at("variant").get<std::string>());
    h += "<tr><td>" + escape(row.at("label").get<std::string>()) + "</td><td>" +
         escape(row.at("variant").get<std::string>()) + "</td>" + auc_cell(v.at("overall"), false) + "<td>" +
         cost_text(v) + "</td></tr>\n";
  }
  return h + "</tbody></table>\n";
}

std::string outcome(const Json& report) {
  const auto c = report.value("comparisons", Json::object());
  if (!c.contains("moe_vs_best_single") && !c.contains("concat_vs_weighted"))
    return "<p class=\"note\">No headline comparison: the run has no moe:hard:concat variant.</p>\n";
  std::string h = "<div class=\"outcome\" id=\"outcome\">\n";
  if (c.contains("best_single"))
    h += "<p>Best single expert (highest test AUC among single:* and probe:*, which favours the baseline): <b>" +
         escape(c["best_single"].get<std::string>()) + "</b></p>\n";
  h += outcome_line(c, "moe_vs_best_single", "Does the MoE (hard routing, k = 2, concat) beat it?");
  h += outcome_line(c, "concat_vs_weighted", "Concatenation vs weighted fusion");
  h += outcome_line(c, "all_vs_lexical", "Do the LLM experts add to the lexical expert (MoE over all − lexical alone)?");
  h += outcome_line(c, "all_vs_lexical_mlp",
                    "… and beyond the lexical expert's own features through the same classifier?");
  h += outcome_line(c, "all_vs_llm_moe", "MoE over all experts − MoE over the LLM experts");
  h += outcome_line(c, "llm_moe_vs_best_llm_single", "LLM experts only: MoE − best single LLM expert");
  h += outcome_line(c, "routed_vs_full", "Cost-aware routing (chosen on dev) − full fusion over all experts");
  h += "<p class=\"note\">Intervals: paired percentile bootstrap over test pairs; \"higher\" / \"lower\" when the "
       "95% interval excludes 0, else \"not significant\".</p>\n</div>\n";
  return h + headline_table(report) + comparison_table(c, "moe_vs_best_single") +
         (c.contains("all_vs_lexical") && c.value("best_single", "") != c["all_vs_lexical"]["b"]
              ? comparison_table(c, "all_vs_lexical")
              : "");
}

// AUC against mean expert cost per pair, every variant whose cost is known.
std::string figure4(const Json& report) {
  std::vector<charts::CostPoint> points;
  for (const auto& name : variant_order(report)) {
    const auto& v = report.at("variants").at(name);
    if (v.contains("mean_cost_s") && !v["overall"]["auc"].is_null())
      points.push_back({name, v["mean_cost_s"].get<double>(), v["overall"]["auc"].get<double>()});
  }
  if (points.empty()) return "<p class=\"note\">No expert costs recorded (stores filled before relmoe measured them).</p>\n";
  return "<figure id=\"figure4\">" + charts::cost_curve(points, "test AUC against mean expert cost per pair") +
         "<figcaption>Figure 4. Test AUC of every variant against its mean expert cost per pair (the summed measured "
         "seconds per pair of the experts it ran); the line joins the Pareto frontier.</figcaption></figure>\n";
}

// The experts' own score variants (single:*), or their probes when the store has no scores.
std::vector<std::string> expert_variants(const Json& report) {
  std::vector<std::string> single, probe;
  for (const auto& name : variant_order(report)) {
    if (group_of(name) == "single") single.push_back(name);
    if (group_of(name) == "probe") probe.push_back(name);
  }
  return single.empty() ? probe : single;
}

// How far apart the experts are in each market (best minus worst there, paired interval).
std::string spread_table(const Json& spread) {
  if (spread.empty()) return "";
  std::string h = "<table id=\"spread\"><thead><tr><th>market</th><th>best expert</th><th>worst expert</th>"
                  "<th>best − worst (points)</th><th>95% CI</th><th>outcome</th></tr></thead><tbody>\n";
  for (const auto& [m, d] : spread.items())
    h += "<tr><td>" + escape(m) + "</td><td>" + escape(d["a"].get<std::string>()) + "</td><td>" +
         escape(d["b"].get<std::string>()) + "</td><td>" + points(number(d["diff"])) + "</td><td>" +
         points(number(d["ci"][0])) + " to " + points(number(d["ci"][1])) + "</td><td>" +
         escape(d["outcome"].get<std::string>()) + "</td></tr>\n";
  return h + "</tbody></table>\n";
}

std::string figure1(const Json& report) {
  const auto& variants = report.at("variants");
  const auto experts = expert_variants(report);
  if (experts.empty()) return "";
  const auto markets = market_names(variants);
  std::vector<charts::Series> series;
  double lo = 1, hi = 0;
  for (const auto& e : experts) {
    charts::Series s{e, {}};
    for (const auto& m : markets) {
      const Json* metric = metric_of(variants[e], m);
      s.values.push_back(metric ? number(metric->at("auc")) : NAN);
      if (!std::isnan(s.values.back())) lo = std::min(lo, s.values.back()), hi = std::max(hi, s.values.back());
    }
    series.push_back(std::move(s));
  }
  if (lo > hi) return "";
  lo = std::max(0.0, std::floor((lo - 0.02) * 20) / 20);
  hi = std::min(1.0, std::ceil((hi + 0.005) * 20) / 20);
  std::string h = "<figure id=\"figure1\">" + charts::radar(markets, series, lo, hi, "per-market AUC per expert") +
                  "<figcaption>Figure 1. Test AUC (%) per market of each single expert; the scale runs from " +
                  pct(lo, 0) + " (centre) to " + pct(hi, 0) + ".</figcaption></figure>\n";
  return h + spread_table(report.value("comparisons", Json::object()).value("expert_spread", Json::object()));
}

std::string figure3(const std::vector<TsneMap>& maps) {
  if (maps.empty()) return "<p class=\"note\">No t-SNE maps (the run has no concat / weighted MoE models).</p>\n";
  std::string h = "<div class=\"figures\" id=\"figure3\">\n";
  for (const auto& m : maps) {
    h += "<figure>" + charts::scatter(m.x, m.y, m.labels, {"not relevant", "relevant"}, "t-SNE of " + m.variant) +
         "<figcaption>" + escape(m.variant) + ": " + std::to_string(m.x.size()) + " test pairs";
    if (!std::isnan(m.neighbour_agreement))
      h += "; 10-nearest-neighbour label agreement in the map " + pct(m.neighbour_agreement, 1) + "%";
    h += "</figcaption></figure>\n";
  }
  return h + "</div>\n<p class=\"note\">Figure 3. t-SNE (exact, perplexity 30) of the fused representations z "
             "(the classifier's input) of the same test pairs, coloured by label.</p>\n";
}

// The usage table's experts in Figure 1's order (so each keeps its colour), then any others.
std::vector<std::string> usage_experts(const Json& report, const Json& usage) {
  std::set<std::string> present;
  for (const auto& [m, per] : usage.items())
    for (const auto& [e, f] : per.items()) present.insert(e);
  std::vector<std::string> experts;
  for (const auto& variant : expert_variants(report)) {
    const auto e = variant.substr(variant.find(':') + 1);
    if (present.erase(e)) experts.push_back(e);
  }
  experts.insert(experts.end(), present.begin(), present.end());
  return experts;
}

std::string usage_section(const Json& report) {
  const auto& variants = report.at("variants");
  if (!variants.contains("moe:hard:concat")) return "";
  const auto& usage = variants["moe:hard:concat"].at("usage");
  const auto experts = usage_experts(report, usage);
  std::vector<std::string> rows;
  std::vector<std::vector<double>> shares;
  for (const auto& [m, per] : usage.items()) {
    double total = 0;
    for (const auto& e : experts) total += per.value(e, 0.0);
    rows.push_back(m);
    shares.emplace_back();
    for (const auto& e : experts) shares.back().push_back(total > 0 ? per.value(e, 0.0) / total : 0.0);
  }
  std::string h = "<figure id=\"usage\">" + charts::stacked_bars(rows, experts, shares, "expert usage per market") +
                  "<figcaption>Share of expert calls per market in moe:hard:concat (each pair runs its top-2 "
                  "experts).</figcaption></figure>\n";
  // Every routed variant: % of pairs each expert ran for.
  h += "<table id=\"usage-table\"><thead><tr><th>variant</th><th>market</th>";
  for (const auto& e : experts) h += "<th>" + escape(e) + " (% of pairs)</th>";
  h += "</tr></thead><tbody>\n";
  for (const auto& name : {"moe:hard:concat", "moe:hard:weighted", "moe:soft:concat", "moe:pseudo:concat", "moe:rule:concat"}) {
    if (!variants.contains(name)) continue;
    for (const auto& [m, per] : variants[name].at("usage").items()) {
      h += "<tr><td>" + escape(name) + "</td><td>" + escape(m) + "</td>";
      for (const auto& e : experts) {
        const double f = per.value(e, 0.0);
        h += "<td style=\"background: rgba(42,157,143," + svg::num(0.6 * f, 2) + ")\">" + pct(f, 1) + "</td>";
      }
      h += "</tr>\n";
    }
  }
  return h + "</tbody></table>\n";
}

std::string cell(const Json& j, const std::string& key, int decimals) {
  if (!j.contains(key) || j[key].is_null()) return "<td>–</td>";
  if (j[key].is_string()) return "<td>" + escape(j[key].get<std::string>()) + "</td>";
  if (j[key].is_boolean()) return std::string("<td>") + (j[key].get<bool>() ? "yes" : "no") + "</td>";
  return "<td>" + svg::num(j[key].get<double>(), decimals) + "</td>";
}

std::string throughput(const Json& report) {
  std::string h;
  if (report.contains("experts")) {
    h += "<table id=\"experts\"><thead><tr><th>expert</th><th>family</th><th>size</th><th>tokenizer</th><th>vocab</th>"
         "<th>pre-training</th><th>parameters (M)</th><th>training s</th><th>embedding pairs/s</th></tr></thead><tbody>\n";
    for (const auto& e : report["experts"]) {
      Json row = e;
      if (row.contains("parameters") && !row["parameters"].is_null()) row["parameters"] = row["parameters"].get<double>() / 1e6;
      h += "<tr>" + cell(row, "name", 0) + cell(row, "family", 0) + cell(row, "size", 0) + cell(row, "tokenizer", 0) +
           cell(row, "vocab", 0) + cell(row, "pretrain", 0) + cell(row, "parameters", 1) + cell(row, "train_seconds", 1) +
           cell(row, "embed_pairs_per_second", 0) + "</tr>\n";
    }
    h += "</tbody></table>\n";
  }
  if (report.contains("stages")) {
    h += "<table id=\"stages\"><thead><tr><th>stage</th><th>seconds</th></tr></thead><tbody>\n";
    for (const auto& s : report["stages"]) h += "<tr>" + cell(s, "stage", 0) + cell(s, "seconds", 1) + "</tr>\n";
    h += "</tbody></table>\n";
  }
  return h.empty() ? "<p class=\"note\">No throughput figures recorded.</p>\n" : h;
}

std::string data_line(const Json& report) {
  if (!report.contains("data")) return "";
  const auto& d = report["data"];
  std::string h = "<p>";
  if (d.contains("source")) h += "Data: " + escape(d["source"].get<std::string>()) + ". ";
  for (const char* split : {"train", "dev", "test"})
    if (d.contains(split)) h += std::string(split) + " " + std::to_string(d[split].get<long>()) + " pairs. ";
  return h + "All AUCs are on the test split.</p>\n";
}

// The students' Table 3 (eval/student_comparison.hpp): AUC and bad-ratio@K with intervals.
std::string table3(const Json& report) {
  const auto& c = report["students"];
  auto value = [](const Json& v) { return v.is_number() ? pct(v.get<double>()) : std::string("n/a"); };
  auto with_ci = [&](const Json& v, const Json& ci) {
    return value(v) + " <span class=\"note\">(" + value(ci[0]) + "–" + value(ci[1]) + ")</span>";
  };
  std::string h = "<table id=\"table3\"><thead><tr><th>student</th><th>AUC (%)</th><th>Δ AUC vs first</th>";
  for (const auto& k : c["k"]) h += "<th>bad@" + k.dump() + " (%)</th>";
  h += "</tr></thead><tbody>\n";
  for (const auto& s : c["students"]) {
    h += "<tr><td>" + escape(s["name"].get<std::string>()) + "</td><td>" + with_ci(s["auc"], s["auc_ci"]) + "</td><td>" +
         (s.contains("vs_first") ? with_ci(s["vs_first"]["auc"]["diff"], s["vs_first"]["auc"]["ci"]) : "—") + "</td>";
    for (const auto& k : c["k"]) {
      const auto& b = s["bad_ratio"][k.dump()];
      h += "<td>" + with_ci(b["value"], b["ci"]) + "</td>";
    }
    h += "</tr>\n";
  }
  return h + "</tbody></table>\n<p class=\"note\">ColBERT students trained on the train split with one recipe; "
             "bad@K: share of irrelevant items among each test query's top K (queries with more than K "
             "candidates); 95% bootstrap intervals, differences paired.</p>\n";
}

}  // namespace

std::string render_report_html(const Json& report, const std::vector<TsneMap>& maps) {
  const std::string title = report.value("title", std::string("relmoe report"));
  std::string h = "<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n<meta charset=\"utf-8\"/>\n"
                  "<title>" + escape(title) + "</title>\n<style>" + kStyle + "</style>\n</head>\n<body>\n";
  h += "<h1>" + escape(title) + "</h1>\n" + data_line(report);
  h += "<h2>Outcome</h2>\n" + outcome(report);
  h += "<h2>Table 1. AUC (%) overall and per market, every variant</h2>\n" + table1(report) +
       "<p class=\"note\">Best per column highlighted; hover a cell for its 95% bootstrap interval and n.</p>\n";
  h += "<h2>Table 2. Fusion and routing ablations</h2>\n" + table2(report);
  h += "<h2>Figure 1. Per-market AUC of each expert</h2>\n" + figure1(report);
  h += "<h2>Figure 3. Fused representations, concat vs weighted</h2>\n" + figure3(maps);
  h += "<h2>Figure 4. AUC against expert cost</h2>\n" + figure4(report);
  if (report.contains("students"))
    h += "<h2>Table 3. Online students: taught by the MoE, by the best single expert, by the labels</h2>\n" +
         table3(report);
  h += "<h2>Expert usage per market</h2>\n" + usage_section(report);
  h += "<h2>Throughput</h2>\n" + throughput(report);
  return h + "</body>\n</html>\n";
}

}  // namespace relmoe
