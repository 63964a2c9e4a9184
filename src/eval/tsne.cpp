#include "eval/tsne.hpp"

#include "base/error.hpp"

#include <torch/utils.h>
#include <cmath>

namespace relmoe {

namespace {

torch::Tensor squared_distances(const torch::Tensor& x) {
  const auto sq = (x * x).sum(1);
  return (sq.unsqueeze(1) + sq.unsqueeze(0) - 2 * torch::matmul(x, x.t())).clamp_min(0);
}

// Conditional affinities p_{j|i} over each row's nearest neighbours (3 * perplexity of them, as
// in scikit-learn's and openTSNE's approximations: farther points get a negligible weight), with
// each row's Gaussian width found by bisection so that its entropy is log(perplexity), all rows
// at once. Distances are shifted by each row's nearest neighbour first, which leaves p_{j|i}
// unchanged but keeps exp() from underflowing for wide, high-dimensional inputs. Returns the
// dense [n, n] matrix.
torch::Tensor conditional_affinities(const torch::Tensor& x, double perplexity) {
  const auto n = x.size(0);
  auto d = squared_distances(x);
  d.fill_diagonal_(INFINITY);
  const auto k = std::min<std::int64_t>(n - 1, static_cast<std::int64_t>(3 * perplexity) + 1);
  auto [near, index] = d.topk(k, 1, false);  // ascending: column 0 is the nearest neighbour
  near = near - near.slice(1, 0, 1);
  const double target = std::log(perplexity);
  auto beta = 1.0 / near.mean(1).clamp_min(1e-12);
  auto lo = torch::zeros_like(beta), hi = torch::full_like(beta, INFINITY);
  torch::Tensor p;
  for (int step = 0; step < 100; ++step) {
    p = torch::exp(-near * beta.unsqueeze(1));
    const auto sum = p.sum(1).clamp_min(1e-300);
    const auto entropy = torch::log(sum) + beta * (near * p).sum(1) / sum;
    const auto too_flat = entropy > target;  // distribution too wide: raise beta
    lo = torch::where(too_flat, beta, lo);
    hi = torch::where(too_flat, hi, beta);
    beta = torch::where(torch::isinf(hi), beta * 2, (lo + hi) / 2);
  }
  return torch::zeros_like(d).scatter_(1, index, p / p.sum(1, true).clamp_min(1e-300));
}

// The top two principal components, scaled to standard deviation 1e-4 (scikit-learn's "pca"
// start), from the eigenvectors of the smaller of the covariance (d x d) and Gram (n x n)
// matrices: much cheaper than an SVD of the data.
torch::Tensor pca_start(const torch::Tensor& x) {
  const auto centred = x - x.mean(0, true);
  const bool by_covariance = x.size(1) <= x.size(0);
  const auto gram = by_covariance ? torch::matmul(centred.t(), centred) : torch::matmul(centred, centred.t());
  auto [values, vectors] = torch::linalg_eigh(gram);  // ascending eigenvalues
  const auto top = std::min<std::int64_t>(2, vectors.size(1));
  const auto v = vectors.slice(1, vectors.size(1) - top).flip(1);
  auto y = by_covariance ? torch::matmul(centred, v) : v * values.slice(0, values.size(0) - top).flip(0).clamp_min(0).sqrt();
  if (y.size(1) < 2) y = torch::cat({y, torch::zeros({y.size(0), 2 - y.size(1)}, y.options())}, 1);
  const double sd = y.select(1, 0).std().item<double>();
  return sd > 0 ? y / sd * 1e-4 : y;
}

// Runs its scope on one intra-op thread and restores the previous count. t-SNE's operations are
// small (a few MB) and many: with 2 OpenMP threads on a busy 2-core machine one map took 18 s,
// with 1 thread 1.1 s (bench/bench_tsne).
class SingleThread {
 public:
  SingleThread() : previous_(torch::get_num_threads()) { torch::set_num_threads(1); }
  ~SingleThread() { torch::set_num_threads(previous_); }
  SingleThread(const SingleThread&) = delete;
  SingleThread& operator=(const SingleThread&) = delete;

 private:
  int previous_;
};

}  // namespace

TsneResult tsne(const torch::Tensor& input, const TsneOptions& o) {
  if (input.dim() != 2 || input.size(0) < 3) fail("t-SNE", "needs a [n, d] matrix with n >= 3");
  SingleThread single_thread;
  torch::NoGradGuard no_grad;
  const auto x = input.to(torch::kFloat64).contiguous();
  const auto n = x.size(0);
  const double perplexity = std::min(o.perplexity, static_cast<double>(n - 1) / 3.0);
  auto p = conditional_affinities(x, perplexity);
  p = ((p + p.t()) / (2.0 * static_cast<double>(n))).clamp_min(1e-12);
  const double lr = o.learning_rate > 0 ? o.learning_rate : std::max(static_cast<double>(n) / o.exaggeration / 4, 50.0);

  // The descent runs in f32 on preallocated n x n buffers with in-place updates: it is memory
  // bound, and fresh n x n temporaries per iteration cost more than the arithmetic.
  const auto p32 = p.to(torch::kFloat32);
  auto y = pca_start(x).to(torch::kFloat32);
  auto update = torch::zeros_like(y), gains = torch::ones_like(y);
  auto w = torch::empty({n, n}, y.options()), m = torch::empty({n, n}, y.options());
  double w_sum = 1;
  for (int it = 0; it < o.iterations; ++it) {
    // Student-t kernel w_ij = 1 / (1 + |y_i - y_j|^2), q_ij = w_ij / sum(w);
    // gradient 4 sum_j (e p_ij - q_ij) w_ij (y_i - y_j).
    const auto sq = (y * y).sum(1);
    torch::add_out(w, sq.unsqueeze(1), sq.unsqueeze(0));
    w.addmm_(y, y.t(), 1, -2).add_(1).reciprocal_();  // |y_i|^2 + |y_j|^2 - 2 y_i.y_j >= -rounding
    w.fill_diagonal_(0);
    w_sum = w.sum().item<double>();
    const double e = it < o.exaggeration_iterations ? o.exaggeration : 1.0;
    torch::mul_out(m, w, torch::scalar_tensor(-1.0 / w_sum, y.options()));
    m.add_(p32, e).mul_(w);
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
  const auto q = (w.to(torch::kFloat64) / w_sum).clamp_min(1e-12);
  return {y.to(torch::kFloat64), (p * torch::log(p / q)).sum().item<double>()};
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
