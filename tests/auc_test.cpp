#include "eval/auc.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <random>

namespace {

const std::filesystem::path kDir = std::filesystem::path(relmoe::test_paths::source_dir()) / "tests/data/auc";

void read_case(const std::string& name, std::vector<double>& scores, std::vector<float>& labels) {
  std::ifstream in(kDir / (name + ".tsv"));
  ASSERT_TRUE(in) << name;
  std::string header;
  std::getline(in, header);
  float label;
  double score;
  while (in >> label >> score) {
    labels.push_back(label);
    scores.push_back(score);
  }
}

// Independent O(P*N) definition: fraction of (positive, negative) pairs ordered correctly,
// ties counting one half.
double pairwise_auc(const std::vector<double>& s, const std::vector<float>& y) {
  double good = 0, total = 0;
  for (std::size_t i = 0; i < s.size(); ++i)
    for (std::size_t j = 0; j < s.size(); ++j)
      if (y[i] > 0.5f && y[j] < 0.5f) {
        total += 1;
        good += s[i] > s[j] ? 1.0 : (s[i] == s[j] ? 0.5 : 0.0);
      }
  return good / total;
}

}  // namespace

TEST(Auc, MatchesScikitLearnWithTies) {
  std::ifstream in(kDir / "expected.json");
  ASSERT_TRUE(in);
  const auto expected = nlohmann::json::parse(in);
  ASSERT_GE(expected.size(), 5u);
  for (const auto& [name, value] : expected.items()) {
    std::vector<double> scores;
    std::vector<float> labels;
    read_case(name, scores, labels);
    ASSERT_FALSE(scores.empty()) << name;
    EXPECT_NEAR(relmoe::roc_auc(scores, labels), value.get<double>(), 1e-9) << name;
  }
}

TEST(Auc, EqualsPairwiseDefinitionOnRandomTies) {
  std::mt19937 rng(3);
  std::uniform_int_distribution<int> coarse(0, 6);
  std::vector<double> s;
  std::vector<float> y;
  for (int i = 0; i < 300; ++i) {
    y.push_back(static_cast<float>(rng() % 2));
    s.push_back(coarse(rng) + y.back());
  }
  EXPECT_NEAR(relmoe::roc_auc(s, y), pairwise_auc(s, y), 1e-12);
}

TEST(Auc, SingleClassIsAnError) {
  EXPECT_THROW(relmoe::roc_auc({0.1, 0.2}, {1.f, 1.f}), relmoe::Error);
  EXPECT_FALSE(relmoe::try_roc_auc({0.1, 0.2}, {0.f, 0.f}).has_value());
  EXPECT_THROW(relmoe::roc_auc({0.1}, {1.f, 0.f}), relmoe::Error);
}

TEST(Auc, BootstrapIntervalContainsEstimateAndNarrowsWithData) {
  std::mt19937 rng(5);
  std::normal_distribution<double> noise(0, 1);
  auto make = [&](int n, std::vector<double>& s, std::vector<float>& y) {
    for (int i = 0; i < n; ++i) {
      y.push_back(static_cast<float>(i % 2));
      s.push_back(noise(rng) + y.back());
    }
  };
  std::vector<double> s1, s2;
  std::vector<float> y1, y2;
  make(200, s1, y1);
  make(5000, s2, y2);
  const auto [lo1, hi1] = relmoe::bootstrap_auc_ci(s1, y1, 500, 1);
  const auto [lo2, hi2] = relmoe::bootstrap_auc_ci(s2, y2, 500, 1);
  const double a1 = relmoe::roc_auc(s1, y1), a2 = relmoe::roc_auc(s2, y2);
  EXPECT_LT(lo1, a1);
  EXPECT_GT(hi1, a1);
  EXPECT_LT(lo2, a2);
  EXPECT_GT(hi2, a2);
  EXPECT_LT(hi2 - lo2, (hi1 - lo1) / 2);  // width shrinks ~ 1/sqrt(n): 5x here
  // Normal approximation for n = 5000, AUC ~0.76: standard error ~0.0066, 95% width ~0.026.
  EXPECT_NEAR(hi2 - lo2, 0.026, 0.008);
  // Deterministic given the seed.
  EXPECT_EQ(relmoe::bootstrap_auc_ci(s1, y1, 500, 1), std::make_pair(lo1, hi1));
}
