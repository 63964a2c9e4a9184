// Behaviour of training on synthetic expert features with a known structure.
#include "flow/ablation.hpp"
#include "moe/dataset.hpp"
#include "moe/model_io.hpp"
#include "moe/trainer.hpp"

#include "base/error.hpp"
#include "eval/auc.hpp"
#include "eval/report.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <filesystem>
#include <random>

namespace fs = std::filesystem;

namespace {

// A random orthogonal matrix: the expert's private basis.
torch::Tensor rotation(std::int64_t n) { return std::get<0>(torch::linalg_qr(torch::randn({n, n}))); }

struct Synthetic {
  fs::path store;
  std::vector<relmoe::Pair> train, dev, test;
};

// Pairs in markets "x" and "y"; `latent(market, label, expert) -> signal vector` puts the task
// into each expert's first dimensions, the rest is noise; each expert's space is rotated.
Synthetic make_synthetic(const std::string& name, std::int64_t per_split,
                         const std::function<std::pair<float, std::vector<torch::Tensor>>(int market, std::mt19937&)>& draw,
                         std::int64_t width) {
  torch::manual_seed(11);
  std::mt19937 rng(12);
  Synthetic s;
  s.store = relmoe::test::scratch_dir() / ("relmoe_train_" + name);
  fs::remove_all(s.store);
  std::vector<std::string> ids;
  std::vector<std::vector<torch::Tensor>> rows;
  std::vector<relmoe::Pair>* splits[] = {&s.train, &s.dev, &s.test};
  for (int split = 0; split < 3; ++split)
    for (std::int64_t i = 0; i < per_split; ++i) {
      const int market = static_cast<int>(i % 2);
      auto [label, latent] = draw(market, rng);
      relmoe::Pair p;
      p.id = "s" + std::to_string(split) + "_" + std::to_string(i);
      p.market = market == 0 ? "x" : "y";
      p.query = (market == 0 ? "rote schuhe " : "รองเท้าสีแดง ") + std::to_string(i % 37);
      p.item = "item " + std::to_string(i % 101);
      p.label = label;
      splits[split]->push_back(p);
      ids.push_back(p.id);
      rows.push_back(latent);
    }
  const auto experts = rows[0].size();
  std::vector<relmoe::ExpertColumn> columns;
  for (std::size_t e = 0; e < experts; ++e) columns.push_back({{"e" + std::to_string(e), {}, width}, torch::kFloat32, false, 0});
  relmoe::FeatureStoreWriter writer(s.store, ids, columns);
  for (std::size_t e = 0; e < experts; ++e) {
    std::vector<torch::Tensor> latent;
    for (auto& r : rows) latent.push_back(r[e]);
    auto signal = torch::stack(latent);
    auto x = torch::cat({signal, 0.5 * torch::randn({signal.size(0), width - signal.size(1)})}, 1);
    // Scaled and shifted like LLM hidden states, then rotated into the expert's own basis.
    writer.append(columns[e].name, torch::matmul(x * 3.0 + 1.0, rotation(width)));
  }
  writer.commit();
  return s;
}

relmoe::TrainOptions fast_options() {
  relmoe::TrainOptions o;
  o.batch = 64;
  o.lr = 3e-3;
  o.epochs = 12;
  o.patience = 4;
  o.seed = 1;
  o.progress = false;
  return o;
}

relmoe::MoeConfig config(relmoe::Routing routing, relmoe::Fusion fusion, int k, std::int64_t dim) {
  relmoe::MoeConfig c;
  c.routing = routing;
  c.fusion = fusion;
  c.k = k;
  c.dim = dim;
  c.hidden = 32;
  c.hashing.buckets = 4096;
  return c;
}

relmoe::EvalReport evaluate(relmoe::MoeModel& model, const relmoe::FeatureStore& store,
                            const std::vector<relmoe::Pair>& pairs) {
  const auto set = relmoe::make_pair_set(store, pairs, model->config, "test", true);
  const auto pred = relmoe::predict(model, store, set);
  return relmoe::evaluate({pred.scores, set.labels, set.market_names, model->config.experts, pred.active}, 100);
}

}  // namespace

TEST(TrainBehaviour, HardRoutingSendsEachMarketToItsInformativeExpert) {
  // e0 carries the label in market x only, e1 in market y only.
  const auto s = make_synthetic("specialists", 3000, [](int market, std::mt19937& rng) {
    const float y = static_cast<float>(rng() % 2);
    const float sign = 2 * y - 1;
    auto informative = torch::randn({4}) + 0.8 * sign;
    auto noise = torch::randn({4});
    return std::make_pair(y, market == 0 ? std::vector{informative, noise} : std::vector{noise, informative});
  }, 16);
  const auto store = relmoe::FeatureStore::open(s.store);
  auto hard = relmoe::train_model(config(relmoe::Routing::hard, relmoe::Fusion::concat, 1, 8), store, s.train, s.dev,
                                  fast_options());
  const auto report = evaluate(hard.model, store, s.test);
  EXPECT_GT(report.usage.at("x").at("e0"), 0.9);
  EXPECT_GT(report.usage.at("y").at("e1"), 0.9);
  EXPECT_DOUBLE_EQ(report.active_experts, 1.0);
  for (const std::string expert : {"e0", "e1"}) {
    auto probe = relmoe::train_model(relmoe::probe_config(config(relmoe::Routing::full, relmoe::Fusion::concat, 1, 8), expert),
                                     store, s.train, s.dev, fast_options());
    const auto single = evaluate(probe.model, store, s.test);
    EXPECT_GT(report.overall.auc, single.overall.auc + 0.05) << expert;
  }
}

TEST(TrainBehaviour, ConcatBeatsWeightedOnRotatedComplementaryExperts) {
  // The label needs both experts' signals jointly (sign of a.b); each expert's space is rotated.
  const auto s = make_synthetic("rotated", 4000, [](int, std::mt19937&) {
    auto a = torch::randn({2}), b = torch::randn({2});
    const float y = (a * b).sum().item<float>() > 0 ? 1.f : 0.f;
    return std::make_pair(y, std::vector{a, b});
  }, 8);
  const auto store = relmoe::FeatureStore::open(s.store);
  auto concat = relmoe::train_model(config(relmoe::Routing::full, relmoe::Fusion::concat, 2, 2), store, s.train, s.dev,
                                    fast_options());
  auto weighted = relmoe::train_model(config(relmoe::Routing::full, relmoe::Fusion::weighted, 2, 2), store, s.train,
                                      s.dev, fast_options());
  const double auc_concat = evaluate(concat.model, store, s.test).overall.auc;
  const double auc_weighted = evaluate(weighted.model, store, s.test).overall.auc;
  EXPECT_GT(auc_concat, 0.85);
  EXPECT_GT(auc_concat, auc_weighted + 0.05) << auc_concat << " vs " << auc_weighted;
}

TEST(TrainBehaviour, DeterministicGivenSeedAndBadInputsAreClearErrors) {
  const auto s = make_synthetic("small", 400, [](int market, std::mt19937& rng) {
    const float y = static_cast<float>(rng() % 2);
    return std::make_pair(y, std::vector{torch::randn({2}) + y, torch::randn({2})});
  }, 6);
  const auto store = relmoe::FeatureStore::open(s.store);
  auto o = fast_options();
  o.epochs = 2;
  const auto c = config(relmoe::Routing::soft, relmoe::Fusion::concat, 2, 4);
  auto a = relmoe::train_model(c, store, s.train, s.dev, o), b = relmoe::train_model(c, store, s.train, s.dev, o);
  const auto set = relmoe::make_pair_set(store, s.test, a.model->config, "test", true);
  EXPECT_EQ(relmoe::predict(a.model, store, set).scores, relmoe::predict(b.model, store, set).scores);

  auto error_of = [&](const std::function<void()>& f) -> std::string {
    try {
      f();
    } catch (const relmoe::Error& e) {
      return e.what();
    }
    return "";
  };
  auto unknown = s.test;
  unknown[0].id = "not-in-store";
  EXPECT_NE(error_of([&] { relmoe::make_pair_set(store, unknown, a.model->config, "test.tsv", true); })
                .find("1 of 400 pair ids are not in the feature store"),
            std::string::npos);
  auto new_market = s.test;
  new_market[3].market = "zz";
  EXPECT_NE(error_of([&] { relmoe::make_pair_set(store, new_market, a.model->config, "test.tsv", true); })
                .find("market 'zz': was not seen in training"),
            std::string::npos);
  EXPECT_NE(error_of([&] { relmoe::train_model(config(relmoe::Routing::hard, relmoe::Fusion::concat, 3, 4), store,
                                               s.train, s.dev, o); })
                .find("--k"),
            std::string::npos);
  EXPECT_NE(error_of([&] { relmoe::train_model(c, store, {}, s.dev, o); }).find("no pairs"), std::string::npos);
  auto one_class = s.train;
  for (auto& p : one_class) p.label = 1.0f;
  EXPECT_NE(error_of([&] { relmoe::train_model(c, store, one_class, s.dev, o); }).find("needs both classes"),
            std::string::npos);
}

TEST(TrainBehaviour, PseudoAndRuleRoutingPickTheInformativeExpert) {
  const auto s = make_synthetic("pseudo", 1500, [](int market, std::mt19937& rng) {
    const float y = static_cast<float>(rng() % 2);
    auto informative = torch::randn({2}) + 1.5 * (2 * y - 1);
    auto noise = torch::randn({2});
    return std::make_pair(y, market == 0 ? std::vector{informative, noise} : std::vector{noise, informative});
  }, 8);
  const auto store = relmoe::FeatureStore::open(s.store);
  auto o = fast_options();
  o.epochs = 5;
  for (auto routing : {relmoe::Routing::rule, relmoe::Routing::pseudo}) {
    auto result = relmoe::train_model(config(routing, relmoe::Fusion::concat, 1, 4), store, s.train, s.dev, o);
    const auto report = evaluate(result.model, store, s.test);
    EXPECT_GT(report.usage.at("x").at("e0"), 0.8) << relmoe::name(routing);
    EXPECT_GT(report.usage.at("y").at("e1"), 0.8) << relmoe::name(routing);
    EXPECT_DOUBLE_EQ(report.active_experts, 1.0);
    if (routing == relmoe::Routing::rule) {
      EXPECT_EQ(result.model->config.rule.at("x"), "e0");
      EXPECT_EQ(result.model->config.rule.at("y"), "e1");
    }
  }
}

namespace {

// Two experts that both carry the label in both markets; e1 costs ten times what e0 does.
Synthetic twins_with_costs() {
  auto s = make_synthetic("twins", 2000, [](int, std::mt19937& rng) {
    const float y = static_cast<float>(rng() % 2);
    return std::make_pair(y, std::vector{torch::randn({4}) + 0.7 * (2 * y - 1), torch::randn({4}) + 0.7 * (2 * y - 1)});
  }, 8);
  const auto ids = relmoe::FeatureStore::open(s.store).ids();
  relmoe::FeatureStoreWriter writer(s.store, ids, {});
  writer.set_cost("e0", 0.001);
  writer.set_cost("e1", 0.010);
  writer.commit();
  return s;
}

}  // namespace

TEST(TrainBehaviour, CostLossMovesHardRoutingToTheCheapExpert) {
  const auto s = twins_with_costs();
  const auto store = relmoe::FeatureStore::open(s.store);
  auto variable_k = config(relmoe::Routing::hard, relmoe::Fusion::concat, 2, 8);
  variable_k.min_prob = 0.3;
  auto options = fast_options();
  auto free = relmoe::train_model(variable_k, store, s.train, s.dev, options);
  options.lambda_cost = 3;
  auto priced = relmoe::train_model(variable_k, store, s.train, s.dev, options);
  EXPECT_EQ(priced.model->config.costs, (std::vector<double>{0.001, 0.010}));  // taken from the store
  const auto set = relmoe::make_pair_set(store, s.test, priced.model->config, "test", true);
  auto report = [&](relmoe::MoeModel& m) {
    const auto pred = relmoe::predict(m, store, set);
    return relmoe::evaluate({pred.scores, set.labels, set.market_names, m->config.experts, pred.active, m->config.costs}, 50);
  };
  const auto a = report(free.model), b = report(priced.model);
  EXPECT_LT(b.mean_cost, a.mean_cost * 0.7) << a.mean_cost << " vs " << b.mean_cost;
  EXPECT_GT(b.overall.auc, a.overall.auc - 0.03);
  // Under a budget of the cheap expert's cost, only top-1 experts run, mostly the cheap one.
  priced.model->set_budget(0.001);
  const auto capped = report(priced.model);
  EXPECT_NEAR(capped.active_experts, 1.0, 1e-12);
  EXPECT_LE(capped.mean_cost, b.mean_cost + 1e-12);
  // Without measured costs the cost term is refused with a clear message.
  const auto bare = make_synthetic("twins_bare", 200, [](int, std::mt19937& rng) {
    const float y = static_cast<float>(rng() % 2);
    return std::make_pair(y, std::vector{torch::randn({2}) + y, torch::randn({2})});
  }, 4);
  const auto bare_store = relmoe::FeatureStore::open(bare.store);
  try {
    relmoe::train_model(variable_k, bare_store, bare.train, bare.dev, options);
    FAIL() << "expected an error";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--lambda-cost"), std::string::npos) << e.what();
  }
}

TEST(TrainBehaviour, AblationSweepsCostAndPicksCapacityOnDev) {
  const auto s = twins_with_costs();
  const auto store = relmoe::FeatureStore::open(s.store);
  relmoe::AblationOptions o;
  o.base = config(relmoe::Routing::hard, relmoe::Fusion::concat, 1, 0);
  o.base.hidden = 0;
  o.train = fast_options();
  o.train.epochs = 3;
  o.resamples = 20;
  o.capacity_grid = {2, 8};
  o.cost_sweep = {1.0};
  const auto out = relmoe::test::scratch_dir() / "relmoe_train_ablation_cost";
  std::filesystem::remove_all(out);
  const auto a = relmoe::run_ablation(store, s.train, s.dev, s.test, o, out);
  ASSERT_TRUE(a["variants"].contains("moe:cost:1"));
  EXPECT_FALSE(a["variants"].contains("llm:full:concat"));  // no feature expert in this store
  EXPECT_NEAR(a["variants"]["full:concat"]["mean_cost_s"].get<double>(), 0.011, 1e-12);
  EXPECT_NEAR(a["variants"]["probe:e1"]["mean_cost_s"].get<double>(), 0.010, 1e-12);
  for (const std::string v : {"full:concat", "moe:hard:concat", "moe:cost:1", "fusion:e0+e1"}) {
    const auto& cap = a["capacity"][v];
    const auto chosen = cap["chosen"].get<long>();
    ASSERT_TRUE(chosen == 2 || chosen == 8) << v;
    const double best = std::max(cap["dev_auc"]["2"].get<double>(), cap["dev_auc"]["8"].get<double>());
    EXPECT_EQ(cap["dev_auc"][std::to_string(chosen)].get<double>(), best) << v;
    EXPECT_EQ(a["dev_auc"][v].get<double>(), best) << v;
  }
  EXPECT_FALSE(a["capacity"].contains("probe:e0"));  // probes keep the linear classifier's defaults
  const auto saved = relmoe::load_model(out / "models" / "moe-cost-1");
  EXPECT_EQ(saved->config.min_prob, o.sweep_min_prob);
  EXPECT_EQ(saved->config.k, 2);
  EXPECT_EQ(saved->config.dim, a["capacity"]["moe:cost:1"]["chosen"].get<long>());
}
