#pragma once
// The report's headline comparisons between ablation variants, from their per-pair test scores:
//   best single expert: the single-expert variant (single:<e> or probe:<e>) with the highest test
//     AUC, i.e. the strongest single-expert baseline (chosen on test, which favours the baseline);
//   moe_vs_best_single: AUC(moe:hard:concat) - AUC(best single);
//   concat_vs_weighted: AUC(moe:hard:concat) - AUC(moe:hard:weighted);
// and, when the grid has feature experts (ablation "feature_experts", e.g. the lexical expert):
//   all_vs_lexical: moe:hard:concat (all experts) - the first feature expert alone;
//   all_vs_lexical_mlp: moe:hard:concat - mlp:<that expert> (its vector through the fusion
//     classifier, so the difference is what the other experts add);
//   all_vs_llm_moe: moe:hard:concat - llm:moe:hard:concat (the LLM experts only);
//   llm_moe_vs_best_llm_single: llm:moe:hard:concat - the best single LLM expert ("best_llm_single");
// and, when cost-swept variants exist:
//   routed_vs_full: "routed" - full:concat, where "routed" is the cheapest (by mean test cost per
//     pair) hard-routed variant whose dev AUC is within 0.3 points of full:concat's (chosen on
//     dev, so the test comparison is fair);
// each overall and per market, with a paired bootstrap interval; and
//   expert_spread: per market, the best minus the worst single expert there (single:*, else
//     probe:*), i.e. how much the experts differ in that market. JSON:
//   {"best_single": "<variant>",
//    "<comparison>": {"a": "<variant>", "b": "<variant>",
//                     "overall": {"diff", "ci": [lo, hi], "n", "outcome"}, "markets": {"<m>": {...}}},
//    "expert_spread": {"<m>": {"a": "<best>", "b": "<worst>", "diff", "ci", "n", "outcome"}},
//    "headline": [{"label", "variant"}] the rows of the report's headline table (AUC, interval and
//                mean cost per pair come from each variant's report)}
// where outcome is "higher" (interval above 0), "lower" (below 0) or "not significant".
#include "io/scored_pairs.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace relmoe {

// `ablation` is {"variants": {...}} (eval reports); `scores_of(variant)` returns that variant's
// scored pairs. Comparisons whose variants are absent are left out. Throws when two variants'
// pairs differ (they must be scored on the same test set).
nlohmann::json headline_comparisons(const nlohmann::json& ablation,
                                    const std::function<ScoredPairs(const std::string&)>& scores_of,
                                    int resamples = 1000, std::uint64_t seed = 0);

// "moe:hard:concat − probe:x: +1.23 AUC points (95% CI +0.51 to +1.98), higher" for one
// {"diff", "ci", "outcome"} entry of a comparison (overall or a market).
std::string difference_text(const std::string& a, const std::string& b, const nlohmann::json& difference);

// A Markdown list of the headline comparisons (empty when there are none).
std::string comparisons_markdown(const nlohmann::json& comparisons);

// The headline table of an ablation with comparisons: label, variant, AUC with interval, mean
// expert cost per pair.
std::string headline_markdown(const nlohmann::json& ablation);

}  // namespace relmoe
