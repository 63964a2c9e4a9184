#pragma once
// The paper's Table 3: students evaluated on the same labelled pairs. Per student: AUC overall
// (bootstrap interval) and per market, bad-ratio@K overall (interval over queries) and per
// market; and for every student after the first, its difference from the first with paired
// bootstrap intervals (AUC over pairs, bad-ratio over queries). JSON:
//   {"k": [1, 3, 5, 10], "pairs": n,
//    "students": [{"name", "auc", "auc_ci", "markets": {"<m>": {"auc", "n", "bad_ratio": {"<K>": v}}},
//                  "bad_ratio": {"<K>": {"value", "ci", "queries"}},
//                  "vs_first": {"auc": {"diff", "ci"}, "bad_ratio": {"<K>": {"diff", "ci"}}}}]}
#include "io/pair.hpp"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace relmoe {

struct NamedScores {
  std::string name;
  std::vector<double> scores;  // one per pair
};

nlohmann::json compare_students(const std::vector<Pair>& pairs, const std::vector<NamedScores>& students,
                                const std::vector<int>& ks, int resamples = 1000, std::uint64_t seed = 0);

// Table 3 as Markdown: one row per student, AUC and bad-ratio@K with intervals, differences from
// the first student.
std::string student_table_markdown(const nlohmann::json& comparison);

}  // namespace relmoe
