#pragma once
// L2-regularised logistic regression over sparse rows (hashed features), fitted full-batch with
// L-BFGS. Loss and gradient are summed serially in double precision, so a fit is a pure
// function of its rows and labels: the same data gives the same weights bit for bit.
#include <cstdint>
#include <vector>

namespace relmoe {

// Rows in CSR form: row r is index/value[offsets[r] .. offsets[r + 1]).
struct SparseRows {
  std::vector<std::int64_t> offsets{0};
  std::vector<std::int32_t> index;
  std::vector<float> value;

  std::size_t size() const { return offsets.size() - 1; }
  void add(const std::vector<std::int32_t>& row_index, const std::vector<float>& row_value);
};

struct LinearModel {
  std::vector<float> weight;  // one per feature index
  float bias = 0;

  double logit(const SparseRows& rows, std::size_t r) const;
  // One row given as its nonzero (index, value) pairs.
  double logit(const std::int32_t* index, const float* value, std::size_t n) const;
};

struct LogisticOptions {
  double l2 = 0;      // on the mean loss; 0: 1 / rows (scikit-learn's C = 1)
  int max_iter = 100;
};

// Rows of `rows` listed in `subset` (all rows when empty) with their labels (0/1) in `labels`
// (indexed like `rows`); `dim` feature indices.
LinearModel fit_logistic(const SparseRows& rows, const std::vector<float>& labels, const std::vector<std::size_t>& subset,
                         std::int64_t dim, const LogisticOptions& options);

}  // namespace relmoe
