#include "eval/student_comparison.hpp"

#include "base/error.hpp"
#include "eval/auc.hpp"
#include "eval/bad_ratio.hpp"

#include <cmath>
#include <cstdio>
#include <map>

namespace relmoe {

namespace {

nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); }

nlohmann::json interval(std::pair<double, double> ci) { return {number(ci.first), number(ci.second)}; }

std::string fixed(const nlohmann::json& v, double scale, const char* format) {
  if (!v.is_number()) return "–";
  char buf[32];
  std::snprintf(buf, sizeof buf, format, v.get<double>() * scale);
  return buf;
}

}  // namespace

nlohmann::json compare_students(const std::vector<Pair>& pairs, const std::vector<NamedScores>& students,
                                const std::vector<int>& ks, int resamples, std::uint64_t seed) {
  std::vector<float> labels;
  std::vector<std::string> queries;
  std::map<std::string, std::vector<std::size_t>> markets;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (!pairs[i].label) fail("student eval", "pair '" + pairs[i].id + "' has no label");
    labels.push_back(*pairs[i].label);
    queries.push_back(pairs[i].market + "\t" + pairs[i].query);
    markets[pairs[i].market].push_back(i);
  }
  nlohmann::json out{{"k", ks}, {"pairs", pairs.size()}, {"students", nlohmann::json::array()}};
  std::map<int, BadRatio> first_bad;
  for (std::size_t s = 0; s < students.size(); ++s) {
    const auto& scores = students[s].scores;
    if (scores.size() != pairs.size()) fail("student eval", students[s].name + ": one score per pair is needed");
    nlohmann::json entry{{"name", students[s].name},
                         {"auc", roc_auc(scores, labels)},
                         {"auc_ci", interval(bootstrap_auc_ci(scores, labels, resamples, seed))}};
    for (const auto& [market, rows] : markets) {
      std::vector<double> ms;
      std::vector<float> ml;
      std::vector<std::string> mq;
      for (auto i : rows) ms.push_back(scores[i]), ml.push_back(labels[i]), mq.push_back(queries[i]);
      auto& m = entry["markets"][market];
      m["auc"] = number(try_roc_auc(ms, ml).value_or(std::nan("")));
      m["n"] = rows.size();
      for (int k : ks) m["bad_ratio"][std::to_string(k)] = number(bad_ratio_at_k(mq, ms, ml, k).value);
    }
    for (int k : ks) {
      const auto bad = bad_ratio_at_k(queries, scores, labels, k);
      entry["bad_ratio"][std::to_string(k)] = {
          {"value", number(bad.value)}, {"ci", interval(bootstrap_mean_ci(bad.per_query, resamples, seed))},
          {"queries", bad.queries}};
      if (s == 0) {
        first_bad[k] = bad;
      } else {
        const auto& base = first_bad[k];
        entry["vs_first"]["bad_ratio"][std::to_string(k)] = {
            {"diff", number(bad.value - base.value)},
            {"ci", interval(bootstrap_mean_difference_ci(bad.per_query, base.per_query, resamples, seed))}};
      }
    }
    if (s > 0) {
      const auto d = bootstrap_auc_difference(scores, students[0].scores, labels, resamples, seed);
      entry["vs_first"]["auc"] = {{"diff", number(d.diff)}, {"ci", interval({d.lo, d.hi})}};
    }
    out["students"].push_back(entry);
  }
  return out;
}

std::string student_table_markdown(const nlohmann::json& c) {
  std::string md = "| student | AUC (95% CI) | Δ AUC vs first (95% CI) |";
  std::string rule = "|---|---|---|";
  for (const auto& k : c["k"]) {
    md += " bad@" + k.dump() + " % (95% CI) |";
    rule += "---|";
  }
  md += "\n" + rule + "\n";
  for (const auto& s : c["students"]) {
    md += "| " + s["name"].get<std::string>() + " | " + fixed(s["auc"], 100, "%.2f") + " (" +
          fixed(s["auc_ci"][0], 100, "%.2f") + "–" + fixed(s["auc_ci"][1], 100, "%.2f") + ") | ";
    if (s.contains("vs_first"))
      md += fixed(s["vs_first"]["auc"]["diff"], 100, "%+.2f") + " (" + fixed(s["vs_first"]["auc"]["ci"][0], 100, "%+.2f") +
            " to " + fixed(s["vs_first"]["auc"]["ci"][1], 100, "%+.2f") + ")";
    else
      md += "—";
    md += " |";
    for (const auto& k : c["k"]) {
      const auto& b = s["bad_ratio"][k.dump()];
      md += " " + fixed(b["value"], 100, "%.2f") + " (" + fixed(b["ci"][0], 100, "%.2f") + "–" +
            fixed(b["ci"][1], 100, "%.2f") + ") |";
    }
    md += "\n";
  }
  return md;
}

}  // namespace relmoe
