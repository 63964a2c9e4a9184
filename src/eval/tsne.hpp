#pragma once
// Exact t-SNE (van der Maaten & Hinton 2008) in libtorch, for a few thousand points at most: the
// report's 2-D map of fused representations. O(n^2) memory and time per iteration, which is
// milliseconds for the ~1000 points the report draws; no Barnes-Hut approximation needed.
// Deterministic: the start layout is the top two principal components, not random.
#include <torch/types.h>

#include <functional>
#include <vector>

namespace relmoe {

struct TsneOptions {
  double perplexity = 30;
  int iterations = 750;
  int exaggeration_iterations = 250;  // early exaggeration phase
  double exaggeration = 12;
  double learning_rate = 0;  // 0: max(n / exaggeration / 4, 50), as scikit-learn's "auto"
  std::function<void(int iteration)> on_iteration;  // progress reporting
};

struct TsneResult {
  torch::Tensor y;  // [n, 2] f64 embedding
  double kl = 0;    // KL(P || Q) at the end
};

// Embeds the rows of `x` ([n, d], any float dtype, n >= 3) in 2-D. The perplexity is capped at
// (n - 1) / 3 so that small inputs still have a valid neighbourhood size.
TsneResult tsne(const torch::Tensor& x, const TsneOptions& options = {});

// The share of (point, neighbour) pairs among each point's k nearest neighbours (Euclidean,
// itself excluded) that carry the same label: 1 for perfectly separated classes, about the
// label's base rate for a map that ignores them.
double neighbour_agreement(const torch::Tensor& points, const std::vector<int>& labels, int k = 10);

}  // namespace relmoe
