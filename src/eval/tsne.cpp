#include "eval/tsne.hpp"

#include "base/error.hpp"

#include <cmath>

namespace relmoe {

namespace {

torch::Tensor squared_distances(const torch::Tensor& x) {
  const auto sq = (x * x).sum(1);
  return (sq.unsqueeze(1) + sq.unsqueeze(0) - 2 * torch::matmul(x, x.t())).clamp_min(0);
}

// Conditional affinities p_{j|i} with each row's Gaussian width found by bisection so that its
// entropy is log(perplexity), all rows at once. Distances are shifted by each row's nearest
// neighbour first, which leaves p_{j|i} unchanged but keeps exp() from underflowing for wide,
// high-dimensional inputs.
torch::Tensor conditional_affinities(const torch::Tensor& x, double perplexity) {
  const auto n = x.size(0);
  auto d = squared_distances(x);
  d.fill_diagonal_(INFINITY);
  d = d - std::get<0>(d.min(1, true));
  const auto off_diagonal = torch::ones({n, n}, x.options()).fill_diagonal_(0);
  const auto finite_d = torch::where(off_diagonal > 0, d, torch::zeros_like(d));
  const double target = std::log(perplexity);
  auto beta = 1.0 / (finite_d.sum(1) / static_cast<double>(n - 1)).clamp_min(1e-12);
  auto lo = torch::zeros_like(beta), hi = torch::full_like(beta, INFINITY);
  torch::Tensor p;
  for (int step = 0; step < 100; ++step) {
    p = torch::exp(-d * beta.unsqueeze(1));
    const auto sum = p.sum(1).clamp_min(1e-300);
    const auto entropy = torch::log(sum) + beta * (finite_d * p).sum(1) / sum;
    const auto too_flat = entropy > target;  // distribution too wide: raise beta
    lo = torch::where(too_flat, beta, lo);
    hi = torch::where(too_flat, hi, beta);
    beta = torch::where(torch::isinf(hi), beta * 2, (lo + hi) / 2);
  }
  return p / p.sum(1, true).clamp_min(1e-300);
}

// The top two principal components, scaled to standard deviation 1e-4 (scikit-learn's "pca" start).
torch::Tensor pca_start(const torch::Tensor& x) {
  const auto centred = x - x.mean(0, true);
  auto [u, s, vh] = torch::linalg_svd(centred, false);
  auto y = torch::matmul(centred, vh.slice(0, 0, 2).t());
  if (y.size(1) < 2) y = torch::cat({y, torch::zeros({y.size(0), 2 - y.size(1)}, y.options())}, 1);
  const double sd = y.select(1, 0).std().item<double>();
  return sd > 0 ? y / sd * 1e-4 : y;
}

}  // namespace

TsneResult tsne(const torch::Tensor& input, const TsneOptions& o) {
  if (input.dim() != 2 || input.size(0) < 3) fail("t-SNE", "needs a [n, d] matrix with n >= 3");
  torch::NoGradGuard no_grad;
  const auto x = input.to(torch::kFloat64).contiguous();
  const auto n = x.size(0);
  const double perplexity = std::min(o.perplexity, static_cast<double>(n - 1) / 3.0);
  auto p = conditional_affinities(x, perplexity);
  p = ((p + p.t()) / (2.0 * static_cast<double>(n))).clamp_min(1e-12);
  const double lr = o.learning_rate > 0 ? o.learning_rate : std::max(static_cast<double>(n) / o.exaggeration / 4, 50.0);

  auto y = pca_start(x);
  auto update = torch::zeros_like(y), gains = torch::ones_like(y);
  torch::Tensor q;
  for (int it = 0; it < o.iterations; ++it) {
    // Student-t kernel q_ij ~ 1 / (1 + |y_i - y_j|^2); gradient 4 sum_j (p_ij - q_ij) w_ij (y_i - y_j).
    auto w = 1.0 / (1.0 + squared_distances(y));
    w.fill_diagonal_(0);
    q = (w / w.sum()).clamp_min(1e-12);
    const double e = it < o.exaggeration_iterations ? o.exaggeration : 1.0;
    const auto m = (e * p - q) * w;
    const auto grad = 4.0 * (m.sum(1, true) * y - torch::matmul(m, y));
    // Delta-bar-delta gains: grow where the gradient keeps pushing the same way as the last step.
    const auto same_direction = (grad > 0) == (update > 0);
    gains = torch::where(same_direction, gains * 0.8, gains + 0.2).clamp_min(0.01);
    const double momentum = it < o.exaggeration_iterations ? 0.5 : 0.8;
    update = momentum * update - lr * gains * grad;
    y = y + update;
    y = y - y.mean(0, true);
    if (o.on_iteration) o.on_iteration(it + 1);
  }
  return {y, (p * torch::log(p / q)).sum().item<double>()};
}

double neighbour_agreement(const torch::Tensor& points, const std::vector<int>& labels, int k) {
  const auto n = points.size(0);
  if (static_cast<std::size_t>(n) != labels.size()) fail("neighbour agreement", "one label per point expected");
  k = static_cast<int>(std::min<std::int64_t>(k, n - 1));
  if (k <= 0) return NAN;
  torch::NoGradGuard no_grad;
  auto d = squared_distances(points.to(torch::kFloat64));
  d.fill_diagonal_(INFINITY);
  const auto neighbours = std::get<1>(d.topk(k, 1, false)).contiguous();
  const auto* idx = neighbours.data_ptr<std::int64_t>();
  std::int64_t same = 0;
  for (std::int64_t i = 0; i < n; ++i)
    for (int j = 0; j < k; ++j) same += labels[i] == labels[idx[i * k + j]];
  return static_cast<double>(same) / static_cast<double>(n * k);
}

}  // namespace relmoe
