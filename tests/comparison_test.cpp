// Paired bootstrap AUC differences and the report's headline comparisons.
#include "base/error.hpp"
#include "eval/auc.hpp"
#include "eval/comparison.hpp"
#include "eval/report.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <random>

namespace {

struct Data {
  std::vector<float> labels;
  std::vector<double> strong, weak, strong_jitter;
  std::vector<std::string> ids, markets;
};

Data make_data(std::size_t n) {
  std::mt19937_64 rng(4);
  std::normal_distribution<double> noise(0.0, 1.0);
  Data d;
  for (std::size_t i = 0; i < n; ++i) {
    const float y = static_cast<float>(i % 3 == 0);
    d.labels.push_back(y);
    d.strong.push_back(2.0 * y + noise(rng));
    d.weak.push_back(0.3 * y + noise(rng));
    d.strong_jitter.push_back(d.strong.back() + 0.01 * noise(rng));
    d.ids.push_back("p" + std::to_string(i));
    d.markets.push_back(i % 2 ? "m1" : "m2");
  }
  return d;
}

}  // namespace

TEST(AucDifference, MatchesAucsAndIsPaired) {
  const auto d = make_data(900);
  const auto r = relmoe::bootstrap_auc_difference(d.strong, d.weak, d.labels, 400, 1);
  EXPECT_DOUBLE_EQ(r.diff, relmoe::roc_auc(d.strong, d.labels) - relmoe::roc_auc(d.weak, d.labels));
  EXPECT_LT(r.lo, r.diff);
  EXPECT_GT(r.hi, r.diff);
  EXPECT_GT(r.lo, 0.0);  // a clearly better scorer
  EXPECT_EQ(r.n, 900);
  // Identical scorers: every resample differs by exactly 0.
  const auto same = relmoe::bootstrap_auc_difference(d.strong, d.strong, d.labels, 200, 1);
  EXPECT_EQ(same.diff, 0.0);
  EXPECT_EQ(same.lo, 0.0);
  EXPECT_EQ(same.hi, 0.0);
  // Nearly identical scorers: pairing cancels the shared variance, so the interval of the
  // difference is far narrower than either AUC's own interval.
  const auto close = relmoe::bootstrap_auc_difference(d.strong, d.strong_jitter, d.labels, 400, 1);
  const auto [lo, hi] = relmoe::bootstrap_auc_ci(d.strong, d.labels, 400, 1);
  EXPECT_LT(close.hi - close.lo, 0.2 * (hi - lo));
}

TEST(HeadlineComparisons, PicksTheBestSingleAndComparesPairwise) {
  const auto d = make_data(600);
  std::map<std::string, std::vector<double>> scores{{"single:a", d.weak},
                                                     {"single:b", d.strong_jitter},
                                                     {"probe:a", d.strong_jitter},
                                                     {"moe:hard:concat", d.strong},
                                                     {"moe:hard:weighted", d.weak}};
  nlohmann::json ablation = {{"variants", nlohmann::json::object()}};
  for (const auto& [name, s] : scores) {
    const relmoe::EvalInput in{s, d.labels, d.markets, {"a"}, std::vector<std::uint8_t>(s.size(), 1)};
    ablation["variants"][name] = relmoe::to_json(relmoe::evaluate(in, 50, 0));
  }
  auto scores_of = [&](const std::string& v) {
    return relmoe::ScoredPairs{d.ids, d.markets, d.labels, scores.at(v)};
  };
  const auto c = relmoe::headline_comparisons(ablation, scores_of, 300, 2);
  EXPECT_EQ(c["best_single"], "probe:a");  // strong_jitter beats weak
  const auto& moe = c["moe_vs_best_single"];
  EXPECT_EQ(moe["b"], "probe:a");
  EXPECT_DOUBLE_EQ(moe["overall"]["diff"].get<double>(),
                   relmoe::roc_auc(d.strong, d.labels) - relmoe::roc_auc(d.strong_jitter, d.labels));
  EXPECT_EQ(moe["overall"]["outcome"], "not significant");
  const auto& cw = c["concat_vs_weighted"];
  EXPECT_EQ(cw["overall"]["outcome"], "higher");
  ASSERT_TRUE(cw["markets"].contains("m1"));
  EXPECT_EQ(cw["markets"]["m1"]["n"], 300);
  EXPECT_NE(relmoe::comparisons_markdown(c).find("moe:hard:concat − moe:hard:weighted: +"), std::string::npos);
  // Per market, the best single expert (b) minus the worst (a), on that market's pairs only.
  for (const std::string market : {"m1", "m2"}) {
    const auto& s = c["expert_spread"][market];
    EXPECT_EQ(s["a"], "single:b");
    EXPECT_EQ(s["b"], "single:a");
    std::vector<double> strong, weak;
    std::vector<float> labels;
    for (std::size_t i = 0; i < d.ids.size(); ++i)
      if (d.markets[i] == market) strong.push_back(d.strong_jitter[i]), weak.push_back(d.weak[i]), labels.push_back(d.labels[i]);
    EXPECT_DOUBLE_EQ(s["diff"].get<double>(), relmoe::roc_auc(strong, labels) - relmoe::roc_auc(weak, labels));
    EXPECT_EQ(s["outcome"], "higher");
  }

  auto mismatched = [&](const std::string& v) {
    auto p = scores_of(v);
    if (v == "probe:a") p.ids[0] = "other";
    return p;
  };
  EXPECT_THROW(relmoe::headline_comparisons(ablation, mismatched, 10, 0), relmoe::Error);
}

TEST(ScoredPairs, RoundTripIsExact) {
  const auto d = make_data(50);
  const relmoe::ScoredPairs p{d.ids, d.markets, d.labels, d.strong};
  const auto path = relmoe::test::scratch_dir() / "relmoe_scored_pairs.tsv";
  relmoe::write_scored_pairs(path, p);
  const auto back = relmoe::read_scored_pairs(path);
  EXPECT_EQ(back.ids, p.ids);
  EXPECT_EQ(back.markets, p.markets);
  EXPECT_EQ(back.labels, p.labels);
  EXPECT_EQ(back.scores, p.scores);
  std::filesystem::remove(path);
}
