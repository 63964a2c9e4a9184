// t-SNE: well-separated clusters stay separated in the map; the neighbour-agreement measure on
// hand-checked inputs; determinism.
#include "eval/tsne.hpp"

#include <torch/utils.h>
#include <gtest/gtest.h>

namespace {

// `per` points around each of `k` centres spread far apart in `dim` dimensions.
std::pair<torch::Tensor, std::vector<int>> clusters(int k, int per, int dim, double spread) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> parts;
  std::vector<int> labels;
  for (int c = 0; c < k; ++c) {
    auto centre = torch::zeros({dim}, torch::kFloat64);
    centre[c] = 10.0;
    parts.push_back(centre + spread * torch::randn({per, dim}, torch::kFloat64));
    labels.insert(labels.end(), per, c);
  }
  return {torch::cat(parts), labels};
}

}  // namespace

TEST(Tsne, NeighbourAgreementByHand) {
  // Points on a line: 0, 1, 2 labelled 0 and 10, 11, 12 labelled 1; 2-NN of every point are
  // its own group, so agreement is 1; with labels alternating 0 1 0 | 1 0 1 the 2-NN of the
  // middle points (1 and 11) both differ from them (0/2 agree), the ends agree 1 of 2: 4/12.
  auto x = torch::tensor({0.0, 1.0, 2.0, 10.0, 11.0, 12.0}).unsqueeze(1);
  EXPECT_DOUBLE_EQ(relmoe::neighbour_agreement(x, {0, 0, 0, 1, 1, 1}, 2), 1.0);
  EXPECT_DOUBLE_EQ(relmoe::neighbour_agreement(x, {0, 1, 0, 1, 0, 1}, 2), 4.0 / 12.0);
}

TEST(Tsne, SeparatedClustersStaySeparated) {
  auto [x, labels] = clusters(3, 80, 20, 1.0);
  ASSERT_GT(relmoe::neighbour_agreement(x, labels), 0.99);  // separated in the input
  relmoe::TsneOptions o;
  o.iterations = 500;
  const auto r = relmoe::tsne(x, o);
  ASSERT_EQ(r.y.sizes(), (std::vector<std::int64_t>{240, 2}));
  EXPECT_TRUE(torch::isfinite(r.y).all().item<bool>());
  EXPECT_GT(relmoe::neighbour_agreement(r.y, labels), 0.97);
  // The map is not trivially small: clusters lie apart relative to their own size.
  const auto centre0 = r.y.slice(0, 0, 80).mean(0), centre1 = r.y.slice(0, 80, 160).mean(0);
  const double between = (centre0 - centre1).norm().item<double>();
  const double within = (r.y.slice(0, 0, 80) - centre0).norm(2, 1).mean().item<double>();
  EXPECT_GT(between, 2 * within);
  // A map that ignored the input would agree at about the base rate (1/3).
  torch::manual_seed(9);
  EXPECT_LT(relmoe::neighbour_agreement(torch::randn({240, 2}), labels), 0.5);
}

TEST(Tsne, DeterministicAndKlDecreasesWithMoreIterations) {
  auto [x, labels] = clusters(2, 40, 8, 2.0);
  relmoe::TsneOptions short_run;
  short_run.iterations = 260;
  relmoe::TsneOptions long_run;
  long_run.iterations = 600;
  const auto a = relmoe::tsne(x, long_run), b = relmoe::tsne(x, long_run);
  EXPECT_TRUE(torch::equal(a.y, b.y));
  EXPECT_LT(a.kl, relmoe::tsne(x, short_run).kl);
}

TEST(Tsne, RejectsTooFewPoints) {
  EXPECT_THROW(relmoe::tsne(torch::zeros({2, 3})), std::exception);
}
