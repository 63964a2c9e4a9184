// Cost-aware routing: variable k by probability, the per-batch budget (against a plain greedy
// written here), the cost loss, mean cost in evaluation reports, the Pareto frontier, costs in
// the feature store and model config, the headline rows of a grid with a lexical expert, and the
// market-aware fusion options (balanced market weights, a classifier that sees the market).
#include "eval/charts.hpp"
#include "eval/comparison.hpp"
#include "eval/report.hpp"
#include "io/feature_store.hpp"
#include "moe/config.hpp"
#include "moe/gating.hpp"
#include "moe/model.hpp"
#include "moe/trainer.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>

namespace {

relmoe::MoeConfig hard_config(int k, double min_prob, std::vector<double> costs = {}) {
  relmoe::MoeConfig c;
  for (std::size_t e = 0; e < 4; ++e) {
    c.experts.push_back("e" + std::to_string(e));
    c.widths.push_back(3);
  }
  c.routing = relmoe::Routing::hard;
  c.k = k;
  c.min_prob = min_prob;
  c.costs = std::move(costs);
  c.dim = c.hidden = 4;
  c.markets = {"x"};
  return c;
}

relmoe::Gates route(const relmoe::MoeConfig& c, const torch::Tensor& probs, bool training = false) {
  const auto b = probs.size(0);
  return relmoe::route(c, torch::log(probs), torch::zeros({b}, torch::kLong), {}, training, b);
}

// The budget rule written out as a loop: each pair's top-1, then the other active slots by
// descending probability, taken while the running total of their costs fits the allowance.
torch::Tensor greedy_reference(const torch::Tensor& probs, const torch::Tensor& active, const std::vector<double>& costs,
                               double budget) {
  const auto b = probs.size(0), n = probs.size(1);
  auto keep = torch::zeros({b, n}, torch::kBool);
  double allowance = budget * static_cast<double>(b);
  struct Slot {
    double p;
    std::int64_t i, e;
  };
  std::vector<Slot> extra;
  for (std::int64_t i = 0; i < b; ++i) {
    const auto top = probs[i].argmax().item<std::int64_t>();
    keep[i][top] = true;
    allowance -= costs[static_cast<std::size_t>(top)];
    for (std::int64_t e = 0; e < n; ++e)
      if (e != top && active[i][e].item<bool>()) extra.push_back({probs[i][e].item<double>(), i, e});
  }
  std::stable_sort(extra.begin(), extra.end(), [](const Slot& a, const Slot& c) { return a.p > c.p; });
  double spent = 0;
  for (const auto& s : extra) {
    spent += costs[static_cast<std::size_t>(s.e)];
    if (spent <= allowance + 1e-9) keep[s.i][s.e] = true;
  }
  return keep;
}

}  // namespace

TEST(CostRouting, MinProbDropsUnlikelyExpertsButKeepsAtLeastOne) {
  const auto config = hard_config(3, 0.25);
  const auto probs = torch::tensor({{0.70, 0.20, 0.06, 0.04}, {0.40, 0.30, 0.26, 0.04}, {0.24, 0.24, 0.28, 0.24}});
  const auto g = route(config, probs);
  const auto expected = torch::tensor({{1, 0, 0, 0}, {1, 1, 1, 0}, {0, 0, 1, 0}}).to(torch::kBool);
  EXPECT_TRUE(torch::equal(g.active, expected)) << g.active;
  EXPECT_NEAR(g.weights[1][2].item<double>(), 0.26, 1e-6);
  EXPECT_EQ(g.weights[0][1].item<double>(), 0.0);
  // Training routes the same way (hard routing has no dense training mode).
  EXPECT_TRUE(torch::equal(route(config, probs, true).active, expected));
}

TEST(CostRouting, BudgetKeepsTheMeanCostAndMatchesTheGreedyRule) {
  const std::vector<double> costs{0.001, 0.004, 0.0005, 0.002};
  torch::manual_seed(5);
  const auto probs = torch::softmax(torch::randn({64, 4}) * 1.5, 1);
  const auto unlimited = route(hard_config(4, 0.1, costs), probs).active;
  const double full_cost = relmoe::mean_cost(unlimited, costs);
  const double top1_cost = relmoe::mean_cost(torch::one_hot(probs.argmax(1), 4).to(torch::kBool), costs);
  for (const double budget : {0.0015, 0.003, 0.005, 1.0}) {
    auto config = hard_config(4, 0.1, costs);
    config.budget = budget;
    const auto g = route(config, probs);
    EXPECT_TRUE(torch::equal(g.active, greedy_reference(probs, unlimited, costs, budget))) << "budget " << budget;
    EXPECT_LE(relmoe::mean_cost(g.active, costs), std::max(budget, top1_cost) + 1e-9);  // top-1 always runs
    if (budget >= top1_cost) EXPECT_LE(relmoe::mean_cost(g.active, costs), budget + 1e-9);
    if (budget < full_cost) EXPECT_LT(relmoe::mean_cost(g.active, costs), full_cost);  // it binds
    EXPECT_TRUE(torch::all(g.active.sum(1) >= 1).item<bool>());
    EXPECT_TRUE(torch::all(g.active.logical_and(unlimited.logical_not()).logical_not()).item<bool>())
        << "the budget only removes experts";
    // Inactive experts get no weight; active ones keep their probability.
    EXPECT_TRUE(torch::allclose(g.weights, probs * g.active.to(torch::kFloat32)));
  }
  auto generous = hard_config(4, 0.1, costs);
  generous.budget = 1.0;
  EXPECT_NEAR(relmoe::mean_cost(route(generous, probs).active, costs), full_cost, 1e-9);
  // Training ignores the budget: it is an inference-time limit.
  auto tight = hard_config(4, 0.1, costs);
  tight.budget = 0.0005;
  EXPECT_TRUE(torch::equal(route(tight, probs, true).active, unlimited));
}

TEST(CostRouting, CostLossPullsProbabilityToCheapExperts) {
  const std::vector<double> costs{1.0, 4.0, 2.0, 0.5};
  auto logits = torch::zeros({8, 4}).requires_grad_();
  const auto loss = relmoe::cost_loss(torch::softmax(logits, 1), costs);
  EXPECT_NEAR(loss.item<double>(), (1.0 + 4.0 + 2.0 + 0.5) / 4 / 4.0, 1e-6);  // uniform P, costs over the dearest
  loss.backward();
  const auto g = logits.grad().sum(0);
  // Gradient descent lowers the logit of an expert dearer than the mean and raises the cheaper.
  EXPECT_GT(g[1].item<double>(), 0);
  EXPECT_LT(g[3].item<double>(), 0);
  EXPECT_LT(g[0].item<double>(), 0);
}

TEST(CostRouting, BudgetNeedsCostsAndHardRouting) {
  auto no_costs = hard_config(2, 0);
  no_costs.budget = 0.01;
  EXPECT_THROW(no_costs.validate(), relmoe::Error);
  relmoe::MoeModel model(hard_config(2, 0, {0.001, 0.002, 0.003, 0.004}));
  EXPECT_NO_THROW(model->set_budget(0.002));
  EXPECT_EQ(model->config.budget, 0.002);
  EXPECT_THROW(model->set_budget(-1), relmoe::Error);
  auto full = hard_config(2, 0, {0.001, 0.002, 0.003, 0.004});
  full.routing = relmoe::Routing::full;
  relmoe::MoeModel full_model(full);
  EXPECT_THROW(full_model->set_budget(0.002), relmoe::Error);
  auto bad = hard_config(2, 1.5);
  EXPECT_THROW(bad.validate(), relmoe::Error);
}

TEST(CostRouting, ConfigKeepsCostsAndOlderConfigsStillLoad) {
  auto c = hard_config(3, 0.2, {0.001, 0.002, 0.003, 0.004});
  c.budget = 0.004;
  c.dropout = 0.1;
  const auto back = relmoe::config_from_json(relmoe::to_json(c), "test");
  EXPECT_EQ(back.costs, c.costs);
  EXPECT_EQ(back.min_prob, 0.2);
  EXPECT_EQ(back.budget, 0.004);
  EXPECT_EQ(back.dropout, 0.1);
  auto old = relmoe::to_json(hard_config(2, 0));
  for (const char* key : {"costs", "min_prob", "budget", "dropout"}) old.erase(key);
  const auto loaded = relmoe::config_from_json(old, "old");
  EXPECT_TRUE(loaded.costs.empty());
  EXPECT_FALSE(loaded.has_costs());
  EXPECT_EQ(loaded.min_prob, 0.0);
}

TEST(CostRouting, WidthsFollowTheExpertsUnlessGiven) {
  relmoe::MoeConfig c;
  c.widths = {39, 896, 128};
  c.resolve_widths();
  EXPECT_EQ(c.dim, 256);
  EXPECT_EQ(c.hidden, 256);
  relmoe::MoeConfig narrow;
  narrow.widths = {39, 64};
  narrow.resolve_widths();
  EXPECT_EQ(narrow.dim, 64);
  relmoe::MoeConfig given;
  given.widths = {896};
  given.dim = 32;
  given.resolve_widths();
  EXPECT_EQ(given.dim, 32);
  EXPECT_EQ(given.hidden, 32);
}

TEST(CostRouting, ReportsMeanCostPerPair) {
  const std::vector<double> scores{0.1, 0.9, 0.2, 0.8};
  const std::vector<float> labels{0, 1, 0, 1};
  const std::vector<std::string> markets{"x", "x", "y", "y"};
  // Pair 0 runs a, pair 1 a and b, pair 2 b, pair 3 a.
  const std::vector<std::uint8_t> active{1, 0, 1, 1, 0, 1, 1, 0};
  const auto r = relmoe::evaluate({scores, labels, markets, {"a", "b"}, active, {0.002, 0.010}}, 20);
  EXPECT_NEAR(r.mean_cost, (0.002 + 0.012 + 0.010 + 0.002) / 4, 1e-12);
  const auto j = relmoe::to_json(r);
  EXPECT_NEAR(j["mean_cost_s"].get<double>(), r.mean_cost, 1e-15);
  EXPECT_NEAR(relmoe::report_from_json(j).mean_cost, r.mean_cost, 1e-15);
  const auto unknown = relmoe::evaluate({scores, labels, markets, {"a", "b"}, active, {0.002, 0.0}}, 20);
  EXPECT_EQ(unknown.mean_cost, 0.0);
  EXPECT_FALSE(relmoe::to_json(unknown).contains("mean_cost_s"));
}

TEST(CostRouting, ParetoFrontierIsTheUndominatedPoints) {
  const std::vector<relmoe::charts::CostPoint> points{{"lexical", 0.00002, 0.689}, {"llm", 0.005, 0.58},
                                                      {"full", 0.007, 0.705},      {"routed", 0.002, 0.703},
                                                      {"moe", 0.003, 0.701},       {"cheap-twin", 0.00002, 0.60}};
  const auto frontier = relmoe::charts::pareto_frontier(points);
  EXPECT_EQ(frontier, (std::vector<std::size_t>{0, 3, 2}));
  const auto svg = relmoe::charts::cost_curve(points, "cost");
  EXPECT_NE(svg.find("routed: AUC 70.30"), std::string::npos);
  EXPECT_THROW(relmoe::charts::cost_curve({{"free", 0, 0.5}}, "x"), relmoe::Error);
}

TEST(CostRouting, FeatureStoreKeepsCostsAcrossResume) {
  const auto dir = relmoe::test::scratch_dir() / "relmoe_cost_store";
  std::filesystem::remove_all(dir);
  const std::vector<std::string> ids{"a", "b"};
  {
    relmoe::FeatureStoreWriter w(dir, ids, {{{"e", {}, 2}, torch::kFloat32, false, 0}});
    w.append("e", torch::ones({2, 2}));
    w.set_cost("e", 0.0025);
    w.commit();
    EXPECT_THROW(w.set_cost("e", -1), relmoe::Error);
  }
  EXPECT_EQ(relmoe::FeatureStore::open(dir).experts()[0].cost, 0.0025);
  {
    relmoe::FeatureStoreWriter w(dir, ids, {{{"f", {}, 1}, torch::kFloat32, false, 0}});
    w.append("f", torch::ones({2, 1}));
    w.commit();
  }
  const auto store = relmoe::FeatureStore::open(dir);
  EXPECT_EQ(store.experts()[store.expert_index("e")].cost, 0.0025);
  EXPECT_EQ(store.experts()[store.expert_index("f")].cost, 0.0);
}

TEST(CostRouting, HeadlineRowsAndTheRoutedChoiceFollowDev) {
  // Scores: the lexical expert strong, LLMs weak, fusions a little better than lexical.
  std::vector<std::string> ids, markets;
  std::vector<float> labels;
  std::vector<double> noise;
  std::mt19937 rng(3);
  std::normal_distribution<double> normal;
  for (int i = 0; i < 800; ++i) {
    ids.push_back("p" + std::to_string(i));
    markets.push_back(i % 2 ? "m1" : "m2");
    labels.push_back(static_cast<float>(i % 3 == 0));
    noise.push_back(normal(rng));
  }
  auto signal = [&](double strength, int seed) {
    std::mt19937 r(static_cast<unsigned>(seed));
    std::vector<double> s;
    for (std::size_t i = 0; i < ids.size(); ++i) s.push_back(strength * labels[i] + normal(r));
    return s;
  };
  const std::map<std::string, std::pair<std::vector<double>, double>> variants{
      {"single:lexical", {signal(1.2, 1), 0.00002}}, {"single:llm", {signal(0.3, 2), 0.003}},
      {"probe:llm", {signal(0.35, 3), 0.003}},        {"llm:full:concat", {signal(0.4, 4), 0.006}},
      {"llm:moe:hard:concat", {signal(0.4, 5), 0.004}}, {"full:concat", {signal(1.4, 6), 0.006}},
      {"moe:hard:concat", {signal(1.35, 7), 0.004}},  {"moe:hard:weighted", {signal(1.3, 8), 0.004}},
      {"moe:cost:1", {signal(1.38, 9), 0.001}},       {"moe:cost:3", {signal(1.2, 10), 0.0001}},
      {"mlp:lexical", {signal(1.3, 11), 0.00002}}};
  nlohmann::json ablation = {{"variants", nlohmann::json::object()}, {"feature_experts", {"lexical"}}};
  for (const auto& [name, v] : variants) {
    const relmoe::EvalInput in{v.first, labels, markets, {"x"}, std::vector<std::uint8_t>(ids.size(), 1), {v.second}};
    ablation["variants"][name] = relmoe::to_json(relmoe::evaluate(in, 50, 0));
  }
  // On dev, moe:cost:3 is far below full fusion and moe:cost:1 within 0.3 points of it.
  ablation["dev_auc"] = {{"full:concat", 0.800}, {"moe:hard:concat", 0.799}, {"moe:cost:1", 0.7975}, {"moe:cost:3", 0.75}};
  const auto c = relmoe::headline_comparisons(
      ablation, [&](const std::string& v) { return relmoe::ScoredPairs{ids, markets, labels, variants.at(v).first}; }, 100, 1);
  EXPECT_EQ(c["lexical"], "single:lexical");
  EXPECT_EQ(c["routed"], "moe:cost:1");
  EXPECT_EQ(c["routed_vs_full"]["b"], "full:concat");
  EXPECT_EQ(c["all_vs_lexical"]["b"], "single:lexical");
  EXPECT_EQ(c["all_vs_llm_moe"]["b"], "llm:moe:hard:concat");
  EXPECT_EQ(c["best_llm_single"], "probe:llm");
  std::vector<std::string> rows;
  for (const auto& r : c["headline"]) rows.push_back(r["variant"]);
  EXPECT_EQ(c["all_vs_lexical_mlp"]["b"], "mlp:lexical");
  EXPECT_EQ(rows, (std::vector<std::string>{"single:lexical", "mlp:lexical", "probe:llm", "llm:full:concat", "llm:moe:hard:concat",
                                            "full:concat", "moe:hard:concat", "moe:cost:1"}));
  ablation["comparisons"] = c;
  const auto md = relmoe::headline_markdown(ablation);
  EXPECT_NE(md.find("| lexical expert alone | single:lexical |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 0.020 |"), std::string::npos) << md;  // 0.00002 s = 0.020 ms
}

TEST(MarketAwareFusion, BalancedWeightsGiveEveryMarketTheSameTotal) {
  const std::vector<std::int64_t> markets{0, 0, 0, 0, 0, 0, 2, 2, 0, 2};  // market 1 absent
  const auto w = relmoe::balanced_market_weights(markets);
  ASSERT_EQ(w.size(), 3u);
  EXPECT_FLOAT_EQ(w[0] * 7, w[2] * 3);  // equal totals per market
  EXPECT_EQ(w[1], 0.f);
  double mean = 0;
  for (const auto m : markets) mean += w[static_cast<std::size_t>(m)];
  EXPECT_NEAR(mean / static_cast<double>(markets.size()), 1.0, 1e-6);
}

TEST(MarketAwareFusion, ClassifierSeesTheMarketAndSurvivesSaveLoad) {
  auto c = hard_config(2, 0, {0.001, 0.002, 0.003, 0.004});
  c.routing = relmoe::Routing::full;
  c.markets = {"x", "y"};
  c.market_classifier = true;
  torch::manual_seed(4);
  relmoe::MoeModel model(c);
  ASSERT_TRUE(model->classifier_market);
  const auto hidden = torch::randn({1, 3});
  const relmoe::HiddenFetch same = [&](int, const torch::Tensor& positions) { return hidden.expand({positions.size(0), 3}); };
  const auto gates = relmoe::route(model->config, {}, torch::tensor({0, 1}, torch::kLong), {}, false, 2);
  const auto logits = model->classify(gates, 2, same);
  EXPECT_NE(logits[0].item<float>(), logits[1].item<float>()) << "the same features in two markets score alike";
  c.market_classifier = false;
  relmoe::MoeModel plain(c);
  const auto flat = plain->classify(gates, 2, same);
  EXPECT_EQ(flat[0].item<float>(), flat[1].item<float>());
  EXPECT_TRUE(relmoe::config_from_json(relmoe::to_json(model->config), "x").market_classifier);
}
