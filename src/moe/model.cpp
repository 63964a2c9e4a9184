#include "moe/model.hpp"

#include "base/error.hpp"

#include <algorithm>

namespace relmoe {

MoeModelImpl::MoeModelImpl(MoeConfig c) : config(std::move(c)) {
  config.resolve_widths();
  config.validate();
  const auto n = config.num_experts();
  if (config.uses_router())
    router = register_module("router", Router(config.hashing.buckets, static_cast<std::int64_t>(config.markets.size()),
                                              n, config.router_dim, config.market_dim, config.router_hidden));
  projections = register_module("proj", torch::nn::ModuleList());
  for (std::int64_t e = 0; e < n; ++e) {
    projections->push_back(torch::nn::Linear(config.widths[e], config.dim));
    means.push_back(register_buffer("norm_mean_" + std::to_string(e), torch::zeros({config.widths[e]})));
    inv_stds.push_back(register_buffer("norm_inv_std_" + std::to_string(e), torch::ones({config.widths[e]})));
  }
  auto z = config.fusion == Fusion::concat ? n * config.dim : config.dim;
  if (config.market_classifier) {
    classifier_market = register_module(
        "classifier_market",
        torch::nn::Embedding(std::max<std::int64_t>(static_cast<std::int64_t>(config.markets.size()), 1), config.market_dim));
    z += config.market_dim;
  }
  classifier = register_module("classifier", torch::nn::Sequential());
  if (config.classifier == Classifier::mlp) {
    classifier->push_back(torch::nn::Linear(z, config.hidden));
    classifier->push_back(torch::nn::ReLU());
    // Only with dropout, so models without it keep their parameter names (classifier.2.*).
    if (config.dropout > 0) classifier->push_back(torch::nn::Dropout(config.dropout));
    classifier->push_back(torch::nn::Linear(config.hidden, 1));
  } else {
    classifier->push_back(torch::nn::Linear(z, 1));
  }
  // With a base margin the classifier learns a correction to it, starting from none.
  if (!config.margin.empty()) {
    torch::NoGradGuard no_grad;
    auto out = classifier->ptr(classifier->size() - 1)->as<torch::nn::Linear>();
    out->weight.zero_();
    out->bias.zero_();
  }
  std::vector<std::int64_t> table;
  for (const auto& m : config.markets) {
    auto it = config.rule.find(m);
    table.push_back(it == config.rule.end()
                        ? 0
                        : std::find(config.experts.begin(), config.experts.end(), it->second) - config.experts.begin());
  }
  rule_table = register_buffer("rule_table", torch::tensor(table.empty() ? std::vector<std::int64_t>{0} : table));
  set_market_residual(config.market_residual);
}

void MoeModelImpl::set_market_residual(const std::map<std::string, double>& factors) {
  MoeConfig c = config;
  c.market_residual = factors;
  c.validate();
  config = c;
  std::vector<float> f;
  for (const auto& m : config.markets) {
    auto it = factors.find(m);
    f.push_back(it == factors.end() ? 1.0F : static_cast<float>(it->second));
  }
  if (f.empty()) f.push_back(1.0F);
  residual_factor = torch::tensor(f).to(rule_table.device());
}

Gates MoeModelImpl::route_pairs(const RouterBatch& b, const torch::Tensor& logits, bool training) {
  Gates g = route(config, logits, b.markets, rule_table, training, b.size());
  if (config.market_residual.empty()) return g;
  std::vector<std::int64_t> keep;
  for (std::int64_t e = 0; e < config.num_experts(); ++e) keep.push_back(config.is_shared(e) ? 1 : 0);
  for (const auto e : config.margin_indices()) keep[static_cast<std::size_t>(e)] = 1;
  const auto kept = torch::tensor(keep).to(b.markets.device(), torch::kBool).unsqueeze(0);
  const auto off = (residual_factor.index_select(0, b.markets) == 0).unsqueeze(1);
  g.active = g.active.logical_and(off.logical_not().logical_or(kept));
  g.weights = g.weights * g.active.to(g.weights.scalar_type());
  return g;
}

void MoeModelImpl::set_budget(double seconds_per_pair) {
  if (seconds_per_pair > 0 && config.routing != Routing::hard)
    fail("--budget", "applies to hard routing; this model routes " + relmoe::name(config.routing));
  MoeConfig c = config;
  c.budget = seconds_per_pair;
  c.validate();
  config = c;
}

void MoeModelImpl::set_standardisation(int e, const torch::Tensor& mean, const torch::Tensor& std) {
  torch::NoGradGuard no_grad;
  means[e].copy_(mean);
  // Constant dimensions (std 0) carry no information; leave them centred at zero.
  inv_stds[e].copy_(torch::where(std > 1e-6, 1.0 / std.clamp_min(1e-6), torch::zeros_like(std)));
}

torch::Tensor MoeModelImpl::router_logits(const RouterBatch& b) {
  return router ? router->forward(b.ids, b.offsets, b.markets) : torch::Tensor();
}

Gates MoeModelImpl::gates(const RouterBatch& b, bool training) {
  return route_pairs(b, router_logits(b), training);
}

Gates MoeModelImpl::gates_each(const std::vector<RouterBatch>& rows) {
  if (config.routing == Routing::hard && config.budget > 0)
    fail("--batch-invariant", "the model routes under a budget (a mean cost over each chunk's pairs), so a "
                              "pair's experts depend on its chunk; pass --budget 0 to lift it");
  std::vector<Gates> parts;
  for (const auto& row : rows) {
    if (row.size() != 1) fail("gates_each", "every batch must hold one pair");
    parts.push_back(gates(row, false));
  }
  return concat_rows(parts);
}

torch::Tensor MoeModelImpl::classify_each(const Gates& g, const HiddenFetch& fetch) {
  std::vector<torch::Tensor> logits;
  for (std::int64_t i = 0; i < g.active.size(0); ++i) {
    const HiddenFetch row_fetch = [&](int e, const torch::Tensor& positions) { return fetch(e, positions + i); };
    logits.push_back(classify(rows_of(g, i, 1), 1, row_fetch));
  }
  return logits.empty() ? torch::empty({0}) : torch::cat(logits, 0);
}

torch::Tensor MoeModelImpl::fuse(const Gates& g, std::int64_t batch, const HiddenFetch& fetch) {
  const auto n = config.num_experts();
  std::vector<torch::Tensor> slots;
  torch::Tensor sum;
  for (std::int64_t e = 0; e < n; ++e) {
    const auto positions = g.active.select(1, e).nonzero().squeeze(1);
    torch::Tensor slot;
    if (positions.numel() == 0) {
      slot = torch::zeros({batch, config.dim}, g.weights.options());
    } else {
      auto x = (fetch(static_cast<int>(e), positions) - means[e]) * inv_stds[e];
      auto h = projections[e]->as<torch::nn::Linear>()->forward(x);
      h = h * g.weights.select(1, e).index_select(0, positions).unsqueeze(1);
      slot = positions.numel() == batch ? h : torch::zeros({batch, config.dim}, h.options()).index_copy(0, positions, h);
    }
    if (config.fusion == Fusion::concat)
      slots.push_back(slot);
    else
      sum = sum.defined() ? sum + slot : slot;
  }
  return config.fusion == Fusion::concat ? torch::cat(slots, 1) : sum;
}

torch::Tensor MoeModelImpl::margin(const Gates& g, std::int64_t batch, const HiddenFetch& fetch) {
  auto sum = torch::zeros({batch}, g.weights.options());
  for (const auto e : config.margin_indices()) {
    const auto positions = g.active.select(1, e).nonzero().squeeze(1);
    if (positions.numel() == 0) continue;
    const auto logit = fetch(static_cast<int>(e), positions).select(1, 0).to(sum.scalar_type());
    sum = sum.index_add(0, positions, logit);
  }
  return sum;
}

torch::Tensor MoeModelImpl::classify(const Gates& g, std::int64_t batch, const HiddenFetch& fetch) {
  auto z = fuse(g, batch, fetch);
  if (classifier_market) z = torch::cat({z, classifier_market->forward(g.markets)}, 1);
  auto logits = classifier->forward(z).squeeze(1);
  if (config.margin.empty()) return logits;
  if (!config.market_residual.empty()) logits = logits * residual_factor.index_select(0, g.markets);
  return logits + margin(g, batch, fetch);
}

MoeOutput MoeModelImpl::forward(const RouterBatch& b, const HiddenFetch& fetch, bool training) {
  MoeOutput out;
  out.router_logits = router_logits(b);
  out.gates = route_pairs(b, out.router_logits, training);
  out.logits = classify(out.gates, b.size(), fetch);
  return out;
}

}  // namespace relmoe
