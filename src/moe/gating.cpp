#include "moe/gating.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <limits>

namespace relmoe {

namespace {
torch::Tensor one_hot_bool(const torch::Tensor& index, std::int64_t n) {
  return torch::one_hot(index, n).to(torch::kBool);
}

torch::Tensor cost_tensor(const std::vector<double>& costs, const torch::Tensor& like) {
  return torch::tensor(costs, torch::kFloat64).to(like.device(), torch::kFloat32);
}

// [N] bool: the shared experts (run for every pair, outside routing).
torch::Tensor shared_mask(const MoeConfig& c, const torch::Device& device) {
  std::vector<std::int64_t> mask;
  for (std::int64_t e = 0; e < c.num_experts(); ++e) mask.push_back(c.is_shared(e) ? 1 : 0);
  return torch::tensor(mask).to(device, torch::kBool);
}

// Keeps each pair's top-1 expert, then the other active (pair, expert) slots of the batch by
// descending probability while their summed cost stays within budget * B minus the top-1 and
// shared experts' costs.
torch::Tensor within_budget(const MoeConfig& c, const torch::Tensor& probs, const torch::Tensor& active,
                            const torch::Tensor& top1, const torch::Tensor& shared) {
  const auto batch = probs.size(0);
  const auto costs = cost_tensor(c.costs, probs).expand_as(probs);
  const auto always = top1.logical_or(shared.unsqueeze(0)).to(torch::kFloat32);
  const double allowance = c.budget * static_cast<double>(batch) - (costs * always).sum().item<double>();
  const auto extra = active.logical_and(top1.logical_not()).flatten();
  const auto order = torch::argsort(probs.flatten().masked_fill(extra.logical_not(), -1.0), 0, /*descending=*/true);
  const auto sorted_extra = extra.index_select(0, order);
  const auto spent = (costs.flatten().index_select(0, order) * sorted_extra.to(torch::kFloat32)).cumsum(0);
  const auto keep = sorted_extra.logical_and(spent <= allowance);
  return torch::zeros_like(extra).index_put_({order}, keep).view_as(active).logical_or(top1);
}
}  // namespace

namespace {
// Gates of the routed experts; shared experts get probability 0 and are added by route().
Gates route_routed(const MoeConfig& c, const torch::Tensor& router_logits, const torch::Tensor& markets,
                   const torch::Tensor& rule_table, bool training, std::int64_t batch, const torch::Tensor& shared) {
  const auto n = c.num_experts();
  const auto on = torch::TensorOptions().device(markets.device());
  const auto logits = router_logits.defined() && !c.shared.empty()
                          ? router_logits.masked_fill(shared.unsqueeze(0), -std::numeric_limits<float>::infinity())
                          : router_logits;
  Gates g;
  g.markets = markets;
  switch (c.routing) {
    case Routing::full:
      g.active = torch::ones({batch, n}, on.dtype(torch::kBool));
      g.weights = torch::ones({batch, n}, on.dtype(torch::kFloat32));
      return g;
    case Routing::rule:
      g.active = one_hot_bool(rule_table.index_select(0, markets), n);
      g.weights = g.active.to(torch::kFloat32);
      return g;
    case Routing::pseudo:
      g.probs = torch::softmax(logits, 1);
      g.active = one_hot_bool(logits.argmax(1), n);
      g.weights = g.active.to(torch::kFloat32);
      return g;
    case Routing::hard: {
      g.probs = torch::softmax(logits, 1);
      const auto top = std::get<1>(logits.topk(c.k, 1));
      g.active = torch::zeros({batch, n}, on.dtype(torch::kBool)).scatter_(1, top, true);
      const auto top1 = one_hot_bool(logits.argmax(1), n);
      if (c.min_prob > 0) g.active = g.active.logical_and((g.probs >= c.min_prob).logical_or(top1));
      if (!training && c.budget > 0) g.active = within_budget(c, g.probs, g.active, top1, shared);
      g.weights = g.probs * g.active.to(torch::kFloat32);
      return g;
    }
    case Routing::soft:
      g.probs = torch::softmax(logits, 1);
      if (training) {
        g.active = torch::ones({batch, n}, on.dtype(torch::kBool));
        g.weights = g.probs;
      } else {
        g.active = (g.probs >= c.threshold).logical_or(one_hot_bool(logits.argmax(1), n));
        g.weights = g.probs * g.active.to(torch::kFloat32);
      }
      return g;
  }
  fail("route", "unknown routing");
}
}  // namespace

Gates rows_of(const Gates& g, std::int64_t start, std::int64_t n) {
  auto rows = [&](const torch::Tensor& t) { return t.defined() ? t.narrow(0, start, n) : t; };
  return {rows(g.weights), rows(g.active), rows(g.probs), rows(g.markets)};
}

Gates concat_rows(const std::vector<Gates>& parts) {
  auto cat = [&](torch::Tensor Gates::*field) {
    std::vector<torch::Tensor> ts;
    for (const auto& p : parts) ts.push_back(p.*field);
    return ts.empty() || !ts.front().defined() ? torch::Tensor() : torch::cat(ts, 0);
  };
  return {cat(&Gates::weights), cat(&Gates::active), cat(&Gates::probs), cat(&Gates::markets)};
}

Gates route(const MoeConfig& c, const torch::Tensor& logits, const torch::Tensor& markets,
            const torch::Tensor& rule_table, bool training, std::int64_t batch) {
  const auto shared = shared_mask(c, markets.device());
  Gates g = route_routed(c, logits, markets, rule_table, training, batch, shared);
  if (c.shared.empty()) return g;
  g.active = g.active.logical_or(shared.unsqueeze(0));
  g.weights = torch::where(shared.unsqueeze(0), torch::ones_like(g.weights), g.weights);
  return g;
}

torch::Tensor routed_columns(const MoeConfig& c, const torch::Tensor& x) {
  if (c.shared.empty()) return x;
  std::vector<std::int64_t> routed;
  for (std::int64_t e = 0; e < c.num_experts(); ++e)
    if (!c.is_shared(e)) routed.push_back(e);
  return x.index_select(1, torch::tensor(routed).to(x.device()));
}

torch::Tensor load_balancing_loss(const torch::Tensor& probs, const torch::Tensor& active) {
  const auto n = probs.size(1);
  const auto dispatched = active.to(torch::kFloat32);
  const auto f = dispatched.sum(0) / dispatched.sum().clamp_min(1.0);
  const auto p = probs.mean(0);
  return static_cast<double>(n) * (f.detach() * p).sum();
}

torch::Tensor cost_loss(const torch::Tensor& probs, const std::vector<double>& costs) {
  const double dearest = *std::max_element(costs.begin(), costs.end());
  return (probs.mean(0) * cost_tensor(costs, probs)).sum() / dearest;
}

double mean_cost(const torch::Tensor& active, const std::vector<double>& costs) {
  return (active.to(torch::kFloat32) * cost_tensor(costs, active.to(torch::kFloat32))).sum(1).mean().item<double>();
}

torch::Tensor routing_entropy(const torch::Tensor& probs) {
  return -(probs * torch::log(probs.clamp_min(1e-12))).sum(1).mean();
}

}  // namespace relmoe
