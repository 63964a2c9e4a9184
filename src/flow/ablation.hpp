#pragma once
// The paper's Table 1 / Table 2 grid over one feature store: each single expert (its own
// answer-token score, and a logistic probe on its hidden state), each pairwise fusion, full
// fusion, and the MoE with its fusion and routing ablations, all trained on the same data,
// early-stopped on dev and evaluated on test. When the store also holds feature experts (the
// lexical expert), the LLM experts alone are fused and routed too (llm:full:concat,
// llm:moe:hard:concat); when every expert's cost is known, cost-aware hard routing is swept over
// lambda_cost (moe:cost:<lambda>: k = N, min_prob) for the AUC-against-cost curve. Variants that
// fuse (not singles or probes) pick d = hidden from the capacity grid by dev AUC. With
// AblationOptions::feature_margin, fusing variants that include a feature expert take it as their
// margin (and shared expert when routing) with a correction factor per market chosen on dev.
// Writes <out>/ablation.json
// ({"variants": {"<name>": <eval report>}, "order": [...], "train_seconds": {...}, "dev_auc": {...},
//   "capacity": {"<name>": {"chosen": d, "dev_auc": {"<d>": auc}}}, "feature_experts": [...],
//   "market_residual": {"<name>": {"<market>": factor}},
//   "comparisons": <eval/comparison.hpp>, "fingerprint": {...}}), <out>/ablation.md, every trained
// model under <out>/models/<dir> and every variant's test scores as <out>/scores/<dir>.tsv, where
// <dir> is the variant name with ':' and '+' as '-'.
#include "io/feature_store.hpp"
#include "io/pair.hpp"
#include "moe/trainer.hpp"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace relmoe {

struct AblationOptions {
  TrainOptions train;
  MoeConfig base;     // sizes, classifier, k, hashing; experts: all store experts when empty
  int resamples = 1000;
  std::uint64_t seed = 0;
  // Widths tried for d = hidden of each fusing variant (empty: the base config's, or the experts').
  std::vector<std::int64_t> capacity_grid;
  std::vector<double> cost_sweep;  // lambda_cost values of the moe:cost:* variants
  double sweep_min_prob = 0.2;     // their min_prob
  // Feature experts (the lexical expert) in a fusing variant are its margin: the classifier,
  // seeing the market, learns a correction to their ranking, kept per market as dev decides; in
  // routed variants they are shared experts, outside routing. Off: fused like any expert.
  bool feature_margin = true;
  // Reuse the variants an interrupted run with the same options and data sizes finished.
  bool resume = false;
};

nlohmann::json run_ablation(const FeatureStore& store, const std::vector<Pair>& train, const std::vector<Pair>& dev,
                            const std::vector<Pair>& test, const AblationOptions& options,
                            const std::filesystem::path& out);

// The Markdown tables of an ablation JSON: per-market AUC of every variant, then the fusion and
// routing ablations with active experts, then the hard MoE's expert usage per market.
std::string ablation_markdown(const nlohmann::json& ablation);

// The directory name of a variant's model and scores ("moe:hard:concat" -> "moe-hard-concat").
std::string variant_dir_name(std::string variant);

}  // namespace relmoe
