#include "student/maxsim.hpp"

#include "base/error.hpp"

#include <algorithm>
#include <limits>

namespace relmoe {

torch::Tensor maxsim(const torch::Tensor& queries, const torch::Tensor& items, const torch::Tensor& item_mask) {
  const auto B = queries.size(0), Lq = queries.size(1), d = queries.size(2);
  const auto M = items.size(0), Li = items.size(1);
  if (items.size(2) != d || item_mask.sizes() != torch::IntArrayRef{M, Li})
    fail("maxsim", "queries, items and mask shapes do not agree");
  auto sim = torch::matmul(queries.reshape({B * Lq, d}), items.reshape({M * Li, d}).t()).view({B, Lq, M, Li});
  sim = sim.masked_fill(item_mask.logical_not().view({1, 1, M, Li}), -std::numeric_limits<float>::infinity());
  return std::get<0>(sim.max(3)).sum(1);
}

torch::Tensor maxsim_pairs(const torch::Tensor& queries, const torch::Tensor& items, const torch::Tensor& item_mask) {
  if (queries.size(0) != items.size(0) || item_mask.sizes() != items.sizes().slice(0, 2))
    fail("maxsim", "queries, items and mask shapes do not agree");
  auto sim = torch::bmm(queries, items.transpose(1, 2));  // [B, Lq, Li]
  sim = sim.masked_fill(item_mask.logical_not().unsqueeze(1), -std::numeric_limits<float>::infinity());
  return std::get<0>(sim.max(2)).sum(1);
}

std::vector<float> maxsim_packed(const torch::Tensor& query, const torch::Tensor& tokens,
                                 const std::vector<std::int64_t>& lengths) {
  if (query.dim() != 2 || tokens.dim() != 2 || query.size(1) != tokens.size(1) ||
      query.scalar_type() != torch::kFloat32 || tokens.scalar_type() != torch::kFloat32)
    fail("maxsim", "query [Lq, d] and tokens [N, d] must be f32 with the same d");
  const auto Lq = query.size(0), N = tokens.size(0);
  std::int64_t total = 0;
  for (auto n : lengths) {
    if (n <= 0) fail("maxsim", "every candidate needs at least one token");
    total += n;
  }
  if (total != N) fail("maxsim", "candidate lengths do not add up to the token rows");
  const auto sim = torch::mm(query.contiguous(), tokens.contiguous().t());  // [Lq, N]
  const float* s = sim.data_ptr<float>();
  std::vector<float> scores(lengths.size(), 0.0f);
  for (std::int64_t q = 0; q < Lq; ++q) {
    const float* row = s + q * N;
    std::int64_t start = 0;
    for (std::size_t c = 0; c < lengths.size(); ++c) {
      scores[c] += *std::max_element(row + start, row + start + lengths[c]);
      start += lengths[c];
    }
  }
  return scores;
}

}  // namespace relmoe
