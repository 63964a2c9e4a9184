#pragma once
// The router: runs before any expert and sees only the pair's text and market.
// Hashed codepoint n-grams -> EmbeddingBag (mean) ++ market embedding -> MLP -> one logit per expert.
#include <torch/torch.h>

namespace relmoe {

struct RouterImpl : torch::nn::Module {
  RouterImpl(std::int64_t buckets, std::int64_t markets, std::int64_t experts, std::int64_t text_dim,
             std::int64_t market_dim, std::int64_t hidden);
  // ids/offsets: EmbeddingBag inputs; markets: [B] market indices. Returns logits [B, experts].
  torch::Tensor forward(const torch::Tensor& ids, const torch::Tensor& offsets, const torch::Tensor& markets);

  torch::nn::EmbeddingBag text{nullptr};
  torch::nn::Embedding market{nullptr};
  torch::nn::Linear hidden{nullptr}, out{nullptr};
};
TORCH_MODULE(Router);

}  // namespace relmoe
