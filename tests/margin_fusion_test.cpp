// Shared experts (outside routing) and margin fusion (a feature expert's own logit added to the
// classifier's output, with a per-market factor on the classifier's correction): gates, losses,
// budget, the model's output at initialisation and at factor 0, and the configuration file.
#include "moe/config.hpp"
#include "moe/gating.hpp"
#include "moe/model.hpp"

#include "base/error.hpp"

#include <gtest/gtest.h>

namespace {

// Four experts e0..e3 of width 3, e0 shared and the margin; hard top-k among e1..e3.
relmoe::MoeConfig margin_config(int k, std::vector<double> costs = {}) {
  relmoe::MoeConfig c;
  for (std::size_t e = 0; e < 4; ++e) {
    c.experts.push_back("e" + std::to_string(e));
    c.widths.push_back(3);
  }
  c.routing = relmoe::Routing::hard;
  c.k = k;
  c.costs = std::move(costs);
  c.dim = c.hidden = 4;
  c.markets = {"x", "y"};
  c.shared = {"e0"};
  c.margin = {"e0"};
  return c;
}

relmoe::Gates route(const relmoe::MoeConfig& c, const torch::Tensor& probs, const torch::Tensor& markets) {
  return relmoe::route(c, torch::log(probs), markets, {}, false, probs.size(0));
}

// Each expert's features: random, except the margin expert's first value, its logit.
std::vector<torch::Tensor> features(std::int64_t batch) {
  torch::manual_seed(3);
  std::vector<torch::Tensor> x;
  for (int e = 0; e < 4; ++e) x.push_back(torch::randn({batch, 3}));
  return x;
}

relmoe::HiddenFetch fetch_from(const std::vector<torch::Tensor>& x) {
  return [&x](int e, const torch::Tensor& positions) { return x[e].index_select(0, positions); };
}

}  // namespace

TEST(MarginFusion, SharedExpertRunsForEveryPairAndTheRouterChoosesAmongTheOthers) {
  const auto c = margin_config(1);
  // e0 has the highest router probability for pair 0: it must not take the routed slot.
  const auto probs = torch::tensor({{0.70, 0.10, 0.15, 0.05}, {0.05, 0.60, 0.20, 0.15}});
  const auto g = route(c, probs, torch::zeros({2}, torch::kLong));
  const auto expected = torch::tensor({{1, 0, 1, 0}, {1, 1, 0, 0}}).to(torch::kBool);
  EXPECT_TRUE(torch::equal(g.active, expected)) << g.active;
  EXPECT_EQ(g.probs.select(1, 0).abs().sum().item<double>(), 0.0) << "shared experts get probability 0";
  EXPECT_NEAR(g.probs.sum(1)[0].item<double>(), 1.0, 1e-6) << "the routed experts' probabilities sum to 1";
  EXPECT_EQ(g.weights[0][0].item<double>(), 1.0);
  EXPECT_EQ(g.weights[1][0].item<double>(), 1.0);
  // Renormalised over e1..e3: 0.15 / 0.30 for pair 0's routed expert.
  EXPECT_NEAR(g.weights[0][2].item<double>(), 0.5, 1e-6);
  EXPECT_EQ(c.max_active(), 2);
  // The routing losses see only the routed experts.
  EXPECT_EQ(relmoe::routed_columns(c, g.active).size(1), 3);
  EXPECT_TRUE(torch::equal(relmoe::routed_columns(c, g.active), expected.slice(1, 1)));
}

TEST(MarginFusion, BudgetCountsTheSharedExpertsCostAndNeverDropsIt) {
  const std::vector<double> costs{0.001, 0.002, 0.002, 0.002};
  auto c = margin_config(3, costs);
  torch::manual_seed(9);
  const auto probs = torch::softmax(torch::randn({32, 4}), 1);
  const auto markets = torch::zeros({32}, torch::kLong);
  const double unlimited = relmoe::mean_cost(route(c, probs, markets).active, costs);
  EXPECT_NEAR(unlimited, 0.001 + 3 * 0.002, 1e-9);
  c.budget = 0.004;  // shared 0.001 + top-1 0.002 + room for half a further expert per pair
  const auto g = route(c, probs, markets);
  EXPECT_TRUE(torch::all(g.active.select(1, 0)).item<bool>());
  EXPECT_TRUE(torch::all(relmoe::routed_columns(c, g.active).sum(1) >= 1).item<bool>());
  EXPECT_LE(relmoe::mean_cost(g.active, costs), 0.004 + 1e-9);
  EXPECT_GT(relmoe::mean_cost(g.active, costs), 0.003 + 1e-9) << "the allowance left after shared + top-1 is used";
}

TEST(MarginFusion, UntrainedModelRanksExactlyAsTheMarginExpert) {
  relmoe::MoeModel model(margin_config(2));
  model->eval();
  const auto x = features(16);
  relmoe::RouterBatch b;
  b.ids = torch::zeros({16}, torch::kLong);
  b.offsets = torch::arange(16, torch::kLong);
  b.markets = torch::arange(16, torch::kLong).remainder(2);
  torch::NoGradGuard no_grad;
  const auto out = model->forward(b, fetch_from(x), false);
  EXPECT_TRUE(torch::equal(out.logits, x[0].select(1, 0))) << "the correction starts at zero";
}

TEST(MarginFusion, MarketAtFactorZeroRunsOnlySharedExpertsAndKeepsTheMarginRanking) {
  relmoe::MoeModel model(margin_config(2));
  model->eval();
  {
    // A non-zero correction, as after training.
    torch::NoGradGuard no_grad;
    for (auto& p : model->classifier->parameters()) p.normal_();
  }
  model->set_market_residual({{"x", 0.0}, {"y", 0.5}});
  const auto x = features(16);
  relmoe::RouterBatch b;
  b.ids = torch::zeros({16}, torch::kLong);
  b.offsets = torch::arange(16, torch::kLong);
  b.markets = torch::arange(16, torch::kLong).remainder(2);  // x, y, x, y, ...
  torch::NoGradGuard no_grad;
  const auto out = model->forward(b, fetch_from(x), false);
  const auto in_x = b.markets == 0;
  EXPECT_TRUE(torch::equal(out.gates.active.index({in_x}).sum(1), torch::ones({8}, torch::kLong)))
      << out.gates.active;
  EXPECT_TRUE(torch::equal(out.logits.index({in_x}), x[0].select(1, 0).index({in_x})));
  // Market y keeps half of the correction: margin + 0.5 * what factor 1 adds.
  model->set_market_residual({{"x", 0.0}, {"y", 1.0}});
  const auto whole = model->forward(b, fetch_from(x), false).logits;
  const auto margin = x[0].select(1, 0);
  EXPECT_TRUE(torch::allclose(out.logits - margin, 0.5 * (whole - margin), 1e-5, 1e-6));
  EXPECT_GT((whole - margin).abs().sum().item<double>(), 0.0);
}

TEST(MarginFusion, ConfigurationRoundTripsAndRejectsWhatCannotWork) {
  auto c = margin_config(2);
  c.market_residual = {{"x", 0.0}, {"y", 0.5}};
  const auto back = relmoe::config_from_json(relmoe::to_json(c), "test");
  EXPECT_EQ(back.shared, c.shared);
  EXPECT_EQ(back.margin, c.margin);
  EXPECT_EQ(back.market_residual, c.market_residual);
  relmoe::MoeModel loaded(back);
  EXPECT_EQ(loaded->residual_factor[0].item<float>(), 0.0F);
  auto old = relmoe::to_json(margin_config(2));
  for (const char* key : {"shared", "margin", "market_residual"}) old.erase(key);
  EXPECT_TRUE(relmoe::config_from_json(old, "old").shared.empty());

  auto too_many = margin_config(4);  // only three routed experts
  EXPECT_THROW(too_many.validate(), relmoe::Error);
  auto unknown = margin_config(1);
  unknown.shared = {"e9"};
  EXPECT_THROW(unknown.validate(), relmoe::Error);
  auto all_shared = margin_config(1);
  all_shared.shared = {"e0", "e1", "e2", "e3"};
  EXPECT_THROW(all_shared.validate(), relmoe::Error);
  auto no_margin = margin_config(1);
  no_margin.margin.clear();
  no_margin.market_residual = {{"x", 0.0}};
  EXPECT_THROW(no_margin.validate(), relmoe::Error);
  auto out_of_range = margin_config(1);
  out_of_range.market_residual = {{"x", 2.0}};
  try {
    out_of_range.validate();
    FAIL() << "a factor of 2 was accepted";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("market_residual 'x'"), std::string::npos) << e.what();
  }
}
