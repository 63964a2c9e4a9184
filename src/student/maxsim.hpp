#pragma once
// ColBERT's late interaction: for every query token the best dot product over an item's tokens,
// summed over the query tokens.
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace relmoe {

// Every query against every item, differentiable (training): queries [B, Lq, d], items
// [M, Li, d] with mask [M, Li] (true at real tokens; each item has one) -> [B, M]. One GEMM
// [B·Lq, d] x [d, M·Li], padded item tokens masked out, max over the item's tokens, sum over Lq.
torch::Tensor maxsim(const torch::Tensor& queries, const torch::Tensor& items, const torch::Tensor& item_mask);

// Pair by pair (evaluation): queries [B, Lq, d] against items [B, Li, d] with mask [B, Li] -> [B].
torch::Tensor maxsim_pairs(const torch::Tensor& queries, const torch::Tensor& items, const torch::Tensor& item_mask);

// One query against packed candidates (serving): query [Lq, d] and tokens [N, d], both f32 and
// contiguous, the candidates' rows one after another with `lengths` rows each (> 0, summing to
// N) -> one score per candidate. One sgemm [Lq, d] x [d, N], then a segmented max per candidate.
std::vector<float> maxsim_packed(const torch::Tensor& query, const torch::Tensor& tokens,
                                 const std::vector<std::int64_t>& lengths);

}  // namespace relmoe
