#pragma once
// Routing strategies turn router logits into per-pair expert gates, plus the auxiliary losses
// that shape them.
#include "moe/config.hpp"

#include <torch/types.h>

namespace relmoe {

struct Gates {
  torch::Tensor weights;  // [B, N] f32: the factor each active expert's projection is scaled by; 0 if inactive
  torch::Tensor active;   // [B, N] bool: experts that run for the pair
  torch::Tensor probs;    // [B, N] router softmax (undefined without a router)
  torch::Tensor markets;  // [B] the pairs' market indices (for a market-aware classifier)
};

// Rows [start, start + n) of every field, and the rows of several gates one after another
// (pair-at-a-time evaluation, MoeModelImpl::gates_each).
Gates rows_of(const Gates& g, std::int64_t start, std::int64_t n);
Gates concat_rows(const std::vector<Gates>& parts);

// `logits`: router output [B, N] (ignored for rule/full); `markets`: [B] market indices;
// `rule_table`: [M] expert index per market (rule routing). `training` selects soft routing's
// dense training behaviour versus thresholded inference.
//   hard:   top-k of the logits, those after the first only with probability >= min_prob;
//           at inference under a budget, the batch's further experts by descending probability
//           while its mean cost per pair fits; weight = softmax probability (not renormalised,
//           so the router gets gradients even for k = 1)
//   soft:   training: every expert weighted by its probability; inference: experts with
//           probability >= threshold (at least the top one), weighted by probability
//   pseudo: top-1 of a frozen router, weight 1
//   rule:   the market's expert, weight 1
//   full:   every expert, weight 1
// Shared experts (MoeConfig::shared) are outside routing: the router's choice is among the
// others (the shared ones get probability 0) and they are active for every pair with weight 1.
Gates route(const MoeConfig& config, const torch::Tensor& logits, const torch::Tensor& markets,
            const torch::Tensor& rule_table, bool training, std::int64_t batch);

// The routed experts' columns of an [B, N] tensor (all of them without shared experts), for the
// routing losses.
torch::Tensor routed_columns(const MoeConfig& config, const torch::Tensor& x);

// Switch-Transformer load balancing N * sum_i f_i * P_i, f_i = share of the batch's B*k
// dispatches that went to expert i (no gradient), P_i = mean router probability of expert i.
// Equals 1 for perfectly uniform routing.
torch::Tensor load_balancing_loss(const torch::Tensor& probs, const torch::Tensor& active);

// Cost-aware routing: sum_i c_i * P_i with c_i the expert's cost over the dearest expert's
// (so the term lies in [0, 1]) and P_i the mean router probability of expert i.
torch::Tensor cost_loss(const torch::Tensor& probs, const std::vector<double>& costs);

// Mean expert cost per pair (seconds) of the active experts, `active` [B, N].
double mean_cost(const torch::Tensor& active, const std::vector<double>& costs);

// Mean entropy of the router distributions (soft routing minimises it to sharpen selection).
torch::Tensor routing_entropy(const torch::Tensor& probs);

}  // namespace relmoe
