#include "models/logistic_regression.hpp"

#include "base/error.hpp"

#include <torch/torch.h>

#include <cmath>
#include <numeric>

namespace relmoe {

void SparseRows::add(const std::vector<std::int32_t>& row_index, const std::vector<float>& row_value) {
  index.insert(index.end(), row_index.begin(), row_index.end());
  value.insert(value.end(), row_value.begin(), row_value.end());
  offsets.push_back(static_cast<std::int64_t>(index.size()));
}

double LinearModel::logit(const std::int32_t* index, const float* value, std::size_t n) const {
  double z = bias;
  for (std::size_t j = 0; j < n; ++j) z += static_cast<double>(weight[index[j]]) * value[j];
  return z;
}

double LinearModel::logit(const SparseRows& rows, std::size_t r) const {
  const auto begin = rows.offsets[r];
  return logit(rows.index.data() + begin, rows.value.data() + begin, static_cast<std::size_t>(rows.offsets[r + 1] - begin));
}

namespace {

// Mean logistic loss + l2/2 |w|^2 (bias not regularised) and its gradient; params = [w..., b].
double loss_and_grad(const SparseRows& rows, const std::vector<float>& labels, const std::vector<std::size_t>& subset,
                     const double* params, std::int64_t dim, double l2, double* grad) {
  std::fill(grad, grad + dim + 1, 0.0);
  double loss = 0;
  for (const auto r : subset) {
    double z = params[dim];
    for (auto j = rows.offsets[r]; j < rows.offsets[r + 1]; ++j) z += params[rows.index[j]] * rows.value[j];
    const double y = labels[r];
    // log(1 + exp(-s z)) with s = +-1, stable for large |z|.
    const double m = y > 0.5 ? -z : z;
    loss += m > 0 ? m + std::log1p(std::exp(-m)) : std::log1p(std::exp(m));
    const double g = 1.0 / (1.0 + std::exp(-z)) - y;
    for (auto j = rows.offsets[r]; j < rows.offsets[r + 1]; ++j) grad[rows.index[j]] += g * rows.value[j];
    grad[dim] += g;
  }
  const double n = static_cast<double>(subset.size());
  double norm = 0;
  for (std::int64_t j = 0; j < dim; ++j) {
    grad[j] = grad[j] / n + l2 * params[j];
    norm += params[j] * params[j];
  }
  grad[dim] /= n;
  return loss / n + 0.5 * l2 * norm;
}

}  // namespace

LinearModel fit_logistic(const SparseRows& rows, const std::vector<float>& labels, const std::vector<std::size_t>& subset_in,
                         std::int64_t dim, const LogisticOptions& options) {
  std::vector<std::size_t> subset = subset_in;
  if (subset.empty()) {
    subset.resize(rows.size());
    std::iota(subset.begin(), subset.end(), std::size_t{0});
  }
  if (subset.empty()) fail("logistic regression", "no training rows");
  const double l2 = options.l2 > 0 ? options.l2 : 1.0 / static_cast<double>(subset.size());
  torch::NoGradGuard outer;
  auto params = torch::zeros({dim + 1}, torch::kFloat64).requires_grad_(true);
  torch::optim::LBFGS optimizer({params}, torch::optim::LBFGSOptions(1.0)
                                              .max_iter(options.max_iter)
                                              .history_size(10)
                                              .tolerance_grad(1e-6)
                                              .tolerance_change(1e-10)
                                              .line_search_fn("strong_wolfe"));
  auto grad = torch::zeros({dim + 1}, torch::kFloat64);
  optimizer.step([&] {
    const double loss = loss_and_grad(rows, labels, subset, params.data_ptr<double>(), dim, l2, grad.data_ptr<double>());
    params.mutable_grad() = grad.clone();
    return torch::tensor(loss, torch::kFloat64);
  });
  LinearModel model;
  const double* p = params.data_ptr<double>();
  model.weight.assign(p, p + dim);
  model.bias = static_cast<float>(p[dim]);
  return model;
}

}  // namespace relmoe
