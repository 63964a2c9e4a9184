#pragma once
// The MoE fusion model over frozen expert features:
//   router -> gates -> per active expert: standardise, project to d, scale by gate
//   -> concat (fixed slot per expert, zeros when inactive) or weighted sum -> classifier
//   (+ the margin experts' own logits, when the model has any).
// Only the hidden states of active experts are requested, so routing saves expert work.
#include "moe/config.hpp"
#include "moe/gating.hpp"
#include "moe/router.hpp"

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

namespace relmoe {

// Hidden states of expert `e` for the batch positions `positions` ([n] int64), f32 [n, width_e].
using HiddenFetch = std::function<torch::Tensor(int e, const torch::Tensor& positions)>;

struct RouterBatch {
  torch::Tensor ids, offsets;  // EmbeddingBag inputs
  torch::Tensor markets;       // [B] market indices
  std::int64_t size() const { return markets.size(0); }
};

struct MoeOutput {
  torch::Tensor logits;  // [B] relevance logits
  torch::Tensor router_logits;  // [B, N] (undefined without a router)
  Gates gates;
};

struct MoeModelImpl : torch::nn::Module {
  explicit MoeModelImpl(MoeConfig config);

  MoeOutput forward(const RouterBatch& batch, const HiddenFetch& fetch, bool training);
  // The fused representation z before the classifier ([B, N*d] concat, [B, d] weighted).
  torch::Tensor fuse(const Gates& gates, std::int64_t batch, const HiddenFetch& fetch);
  // Relevance logits [B] from gates computed beforehand (the batch scorer routes a whole
  // chunk first, runs the active experts, then fuses).
  // Sum of the active margin experts' own logits (MoeConfig::margin), [B].
  torch::Tensor margin(const Gates& gates, std::int64_t batch, const HiddenFetch& fetch);
  torch::Tensor classify(const Gates& gates, std::int64_t batch, const HiddenFetch& fetch);
  torch::Tensor router_logits(const RouterBatch& batch);
  Gates gates(const RouterBatch& batch, bool training);

  // Pair at a time (`relmoe score --batch-invariant`): BLAS kernels round differently for other
  // batch shapes, so each pair's gates and logit come from a batch of its own and never depend
  // on the pairs that share its chunk or shard. `rows` holds one single-pair batch per pair;
  // `fetch` serves positions of the whole batch. Refused under a budget, which routes a batch
  // as a whole.
  Gates gates_each(const std::vector<RouterBatch>& rows);
  torch::Tensor classify_each(const Gates& gates, const HiddenFetch& fetch);

  // Inference under a mean expert cost per pair (MoeConfig::budget; 0 lifts it). Throws unless
  // the model routes hard and knows its experts' costs.
  void set_budget(double seconds_per_pair);

  // Per-market factors on the classifier's correction (MoeConfig::market_residual).
  void set_market_residual(const std::map<std::string, double>& factors);

  // Standardisation statistics of expert e's hidden states (from training data).
  void set_standardisation(int e, const torch::Tensor& mean, const torch::Tensor& std);

  MoeConfig config;
  Router router{nullptr};  // null for rule and full routing
  torch::nn::ModuleList projections;
  torch::nn::Sequential classifier;
  torch::nn::Embedding classifier_market{nullptr};  // only with config.market_classifier
  std::vector<torch::Tensor> means, inv_stds;  // buffers, one per expert
  torch::Tensor rule_table;                    // buffer: expert index per market (rule routing)
  torch::Tensor residual_factor;               // [M] f32 from config.market_residual (not saved)

 private:
  // route(), then markets whose correction factor is 0 keep only the shared and margin experts.
  Gates route_pairs(const RouterBatch& batch, const torch::Tensor& router_logits, bool training);
};
TORCH_MODULE(MoeModel);

}  // namespace relmoe
