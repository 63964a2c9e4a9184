#include "moe/router.hpp"

namespace relmoe {

RouterImpl::RouterImpl(std::int64_t buckets, std::int64_t markets, std::int64_t experts, std::int64_t text_dim,
                       std::int64_t market_dim, std::int64_t hidden_dim) {
  text = register_module(
      "text", torch::nn::EmbeddingBag(torch::nn::EmbeddingBagOptions(buckets, text_dim).mode(torch::kMean)));
  market = register_module("market", torch::nn::Embedding(std::max<std::int64_t>(markets, 1), market_dim));
  hidden = register_module("hidden", torch::nn::Linear(text_dim + market_dim, hidden_dim));
  out = register_module("out", torch::nn::Linear(hidden_dim, experts));
  // Start near uniform routing: no expert is favoured before training says so.
  torch::NoGradGuard no_grad;
  out->weight.mul_(0.1);
  out->bias.zero_();
}

torch::Tensor RouterImpl::forward(const torch::Tensor& ids, const torch::Tensor& offsets, const torch::Tensor& markets) {
  auto x = torch::cat({text->forward(ids, offsets), market->forward(markets)}, 1);
  return out->forward(torch::relu(hidden->forward(x)));
}

}  // namespace relmoe
