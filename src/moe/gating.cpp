#include "moe/gating.hpp"

#include "base/error.hpp"

namespace relmoe {

namespace {
torch::Tensor one_hot_bool(const torch::Tensor& index, std::int64_t n) {
  return torch::one_hot(index, n).to(torch::kBool);
}
}  // namespace

Gates route(const MoeConfig& c, const torch::Tensor& logits, const torch::Tensor& markets,
            const torch::Tensor& rule_table, bool training, std::int64_t batch) {
  const auto n = c.num_experts();
  const auto on = torch::TensorOptions().device(markets.device());
  Gates g;
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

torch::Tensor load_balancing_loss(const torch::Tensor& probs, const torch::Tensor& active) {
  const auto n = probs.size(1);
  const auto dispatched = active.to(torch::kFloat32);
  const auto f = dispatched.sum(0) / dispatched.sum().clamp_min(1.0);
  const auto p = probs.mean(0);
  return static_cast<double>(n) * (f.detach() * p).sum();
}

torch::Tensor routing_entropy(const torch::Tensor& probs) {
  return -(probs * torch::log(probs.clamp_min(1e-12))).sum(1).mean();
}

}  // namespace relmoe
