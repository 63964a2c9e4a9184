#pragma once
// The self-contained report page (report.html) of an ablation run: plain HTML + CSS + inline SVG
// (src/eval/charts), no script and no network. Sections:
//   outcome      MoE (hard, k=2, concat) vs the best single expert and concat vs weighted, with
//                paired bootstrap intervals (the ablation's "comparisons")
//   Table 1      per-market AUC of every variant, best per column highlighted, CI and n on hover
//   Table 2      fusion and routing ablations: overall AUC and active experts per pair
//   Figure 1     radar of per-market AUC per single expert, and the per-market spread
//   Figure 3     t-SNE maps of the fused representations of concat and weighted MoE models
//   usage        expert usage per market (stacked bars of the hard concat MoE, table for all routings)
//   throughput   experts (family, size, tokenizer, training time, embedding pairs/s), stage times
// The output is well-formed XML (XHTML syntax), so it can be checked with an XML parser.
#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace relmoe {

struct TsneMap {
  std::string variant;
  std::vector<double> x, y;
  std::vector<int> labels;          // 0 not relevant, 1 relevant
  double neighbour_agreement = NAN; // share of 10-nearest map neighbours with the same label
};

// `report` is an ablation JSON ({"variants", "order", "train_seconds", "comparisons"}) with the
// optional run keys "title", "data" {"source", "train", "dev", "test"}, "experts" [{"name",
// "family", "size", "tokenizer", "vocab", "pretrain", "parameters", "train_seconds",
// "embed_pairs_per_second"}] and "stages" [{"stage", "seconds"}]; absent parts are left out.
std::string render_report_html(const nlohmann::json& report, const std::vector<TsneMap>& maps);

}  // namespace relmoe
