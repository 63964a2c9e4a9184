#pragma once
// Everything that defines a trained MoE model's shape and behaviour, saved as config.json
// beside the weights.
#include "moe/router_features.hpp"

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace relmoe {

enum class Routing { rule, pseudo, soft, hard, full };
enum class Fusion { concat, weighted };
enum class Classifier { linear, mlp };

Routing parse_routing(const std::string& s);
Fusion parse_fusion(const std::string& s);
Classifier parse_classifier(const std::string& s);
std::string name(Routing r);
std::string name(Fusion f);
std::string name(Classifier c);

struct MoeConfig {
  std::vector<std::string> experts;  // store column names, in slot order
  std::vector<std::int64_t> widths;
  Routing routing = Routing::hard;
  Fusion fusion = Fusion::concat;
  Classifier classifier = Classifier::mlp;
  int k = 2;                 // hard routing: experts per pair (at most, with min_prob)
  // Hard routing: beyond the top-1, one of the top-k experts runs only when its router
  // probability is at least this (0: always k experts), so easy pairs can use fewer experts.
  double min_prob = 0;
  // Inference with hard routing: the most mean expert cost per pair (seconds, see `costs`) a
  // batch may spend; the top-1 expert always runs, further ones by descending probability while
  // the batch stays within budget (0: no budget).
  double budget = 0;
  double threshold = 0.2;    // soft routing at inference: experts with probability >= threshold
  std::int64_t dim = 0;      // projection width d (0: follow the experts, see resolve_widths)
  std::int64_t hidden = 0;   // MLP classifier hidden width (0: = dim)
  double dropout = 0;        // MLP classifier: dropout after the hidden layer during training
  // The classifier also sees a market embedding (market_dim), so how the experts' features are
  // weighed can differ by market.
  bool market_classifier = false;
  std::int64_t router_dim = 16;
  std::int64_t router_hidden = 64;
  std::int64_t market_dim = 8;
  HashConfig hashing;
  std::vector<double> costs;                  // seconds per pair of each expert (empty: unknown)
  std::vector<std::string> markets;           // market vocabulary seen in training
  std::map<std::string, std::string> rule;    // rule routing: market -> expert
  // Shared experts run for every pair, outside routing (DeepSeekMoE's shared experts): the router
  // picks its k among the other, routed experts. A cheap feature expert is the natural one.
  std::vector<std::string> shared;
  // Experts whose vector starts with their own relevance logit (feature experts): when active,
  // that logit is added to the classifier's output, so the classifier learns a correction to
  // the expert's ranking (a base margin, as in stacking) and starts from it exactly.
  std::vector<std::string> margin;
  // With a margin: per market, the factor on the classifier's correction (0, 1/2 or 1, chosen on
  // dev by TrainOptions::market_residual; absent markets: 1). Where it is 0 the market keeps the
  // margin experts' ranking and only the shared and margin experts run.
  std::map<std::string, double> market_residual;

  std::int64_t num_experts() const { return static_cast<std::int64_t>(experts.size()); }
  bool uses_router() const { return routing == Routing::pseudo || routing == Routing::soft || routing == Routing::hard; }
  // Experts active per pair at most (k for hard, 1 for rule/pseudo, N otherwise).
  int max_active() const;
  std::int64_t market_index(const std::string& market) const;  // throws for unseen markets
  bool has_costs() const;
  bool is_shared(std::int64_t e) const;
  std::vector<std::int64_t> margin_indices() const;
  std::int64_t num_routed() const;  // experts the router chooses among
  // Unset widths from the experts': d = min(256, widest expert), hidden = d.
  void resolve_widths();
  // Throws relmoe::Error on inconsistent settings (k > N, empty experts, unknown rule expert...).
  void validate() const;
};

nlohmann::json to_json(const MoeConfig& c);
MoeConfig config_from_json(const nlohmann::json& j, const std::string& where);

}  // namespace relmoe
