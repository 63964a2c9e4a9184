#include "moe/dataset.hpp"
#include "moe/gating.hpp"
#include "moe/model.hpp"
#include "moe/model_io.hpp"
#include "moe/trainer.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <filesystem>

namespace fs = std::filesystem;

namespace {

relmoe::MoeConfig small_config(relmoe::Routing routing, relmoe::Fusion fusion, int experts = 3, int k = 2) {
  relmoe::MoeConfig c;
  for (int e = 0; e < experts; ++e) {
    c.experts.push_back("e" + std::to_string(e));
    c.widths.push_back(5 + e);
  }
  c.routing = routing;
  c.fusion = fusion;
  c.k = k;
  c.dim = 4;
  c.hidden = 8;
  c.hashing.buckets = 1024;
  c.markets = {"x", "y"};
  c.rule = {{"x", "e0"}, {"y", "e1"}};
  return c;
}

relmoe::RouterBatch random_batch(std::int64_t b) {
  relmoe::FeatureBags bags;
  relmoe::HashConfig h;
  h.buckets = 1024;
  std::vector<std::int64_t> positions;
  for (std::int64_t i = 0; i < b; ++i) {
    bags.add("query " + std::to_string(i * 7919), "item number " + std::to_string(i), h);
    positions.push_back(i);
  }
  relmoe::RouterBatch batch;
  std::tie(batch.ids, batch.offsets) = bags.gather(positions);
  batch.markets = torch::arange(b, torch::kLong) % 2;
  return batch;
}

// Random hidden states, recording which batch positions each expert was asked for.
struct Fetcher {
  std::vector<torch::Tensor> hidden;
  std::vector<std::vector<std::int64_t>> asked;
  Fetcher(const relmoe::MoeConfig& c, std::int64_t b) : asked(c.experts.size()) {
    for (auto w : c.widths) hidden.push_back(torch::randn({b, w}));
  }
  relmoe::HiddenFetch fn() {
    return [this](int e, const torch::Tensor& pos) {
      for (std::int64_t i = 0; i < pos.size(0); ++i) asked[e].push_back(pos[i].item<std::int64_t>());
      return hidden[e].index_select(0, pos);
    };
  }
};

}  // namespace

TEST(LoadBalancing, EqualsSwitchFormula) {
  torch::manual_seed(0);
  const std::int64_t B = 16, N = 4, k = 2;
  const auto probs = torch::softmax(torch::randn({B, N}), 1);
  const auto top = std::get<1>(probs.topk(k, 1));
  const auto active = torch::zeros({B, N}, torch::kBool).scatter_(1, top, true);
  double expected = 0;
  for (std::int64_t i = 0; i < N; ++i) {
    double f = 0, p = 0;
    for (std::int64_t b = 0; b < B; ++b) {
      f += active[b][i].item<bool>() ? 1.0 : 0.0;
      p += probs[b][i].item<double>();
    }
    expected += (f / (B * k)) * (p / B);
  }
  expected *= N;
  EXPECT_NEAR(relmoe::load_balancing_loss(probs, active).item<double>(), expected, 1e-6);
  // Perfectly uniform routing gives exactly 1; collapse onto one expert gives N.
  const auto uniform = torch::full({4, 4}, 0.25);
  EXPECT_NEAR(relmoe::load_balancing_loss(uniform, torch::eye(4).to(torch::kBool)).item<double>(), 1.0, 1e-6);
  auto collapsed = torch::zeros({4, 4});
  collapsed.select(1, 0).fill_(1.0);
  EXPECT_NEAR(relmoe::load_balancing_loss(collapsed, collapsed.to(torch::kBool)).item<double>(), 4.0, 1e-6);
}

TEST(Routing, HardActivatesExactlyKExperts) {
  torch::manual_seed(1);
  for (int k : {1, 2, 3}) {
    auto config = small_config(relmoe::Routing::hard, relmoe::Fusion::concat, 4, k);
    relmoe::MoeModel model(config);
    Fetcher f(config, 32);
    const auto out = model->forward(random_batch(32), f.fn(), false);
    EXPECT_TRUE(torch::all(out.gates.active.sum(1) == k).item<bool>()) << "k=" << k;
    std::size_t fetched = 0;
    for (const auto& a : f.asked) fetched += a.size();
    EXPECT_EQ(fetched, 32u * k);  // only the chosen experts' hidden states are read
  }
  EXPECT_THROW(relmoe::MoeModel(small_config(relmoe::Routing::hard, relmoe::Fusion::concat, 3, 4)), relmoe::Error);
}

TEST(Routing, GradientsReachTheRouterInHardAndSoftMode) {
  for (auto routing : {relmoe::Routing::hard, relmoe::Routing::soft}) {
    torch::manual_seed(2);
    auto config = small_config(routing, relmoe::Fusion::concat);
    relmoe::MoeModel model(config);
    Fetcher f(config, 16);
    const auto out = model->forward(random_batch(16), f.fn(), true);
    torch::binary_cross_entropy_with_logits(out.logits, torch::ones({16})).backward();
    for (const auto& p : model->router->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << relmoe::name(routing) << " " << p.key();
    }
  }
}

TEST(Routing, SoftInferenceKeepsExpertsAboveThreshold) {
  auto config = small_config(relmoe::Routing::soft, relmoe::Fusion::concat);
  config.threshold = 0.3;
  const auto logits = torch::log(torch::tensor({{0.5, 0.35, 0.15}, {0.2, 0.2, 0.6}, {0.34, 0.33, 0.33}}));
  const auto g = relmoe::route(config, logits, torch::zeros({3}, torch::kLong), {}, false, 3);
  const auto expected = torch::tensor({{1, 1, 0}, {0, 0, 1}, {1, 1, 1}}).to(torch::kBool);
  EXPECT_TRUE(torch::equal(g.active, expected));
  EXPECT_NEAR(g.weights[0][1].item<double>(), 0.35, 1e-6);
}

TEST(Fusion, UnselectedExpertsConcatSlotIsZero) {
  torch::manual_seed(3);
  auto config = small_config(relmoe::Routing::rule, relmoe::Fusion::concat);
  relmoe::MoeModel model(config);
  Fetcher f(config, 6);
  const auto batch = random_batch(6);  // markets alternate x, y -> e0, e1
  const auto gates = model->gates(batch, false);
  const auto z = model->fuse(gates, 6, f.fn());
  ASSERT_EQ(z.size(1), 3 * config.dim);
  for (std::int64_t b = 0; b < 6; ++b) {
    const int chosen = b % 2;
    for (int e = 0; e < 3; ++e) {
      const auto slot = z[b].slice(0, e * config.dim, (e + 1) * config.dim);
      if (e == chosen)
        EXPECT_GT(slot.abs().sum().item<double>(), 0.0);
      else
        EXPECT_EQ(slot.abs().sum().item<double>(), 0.0) << "pair " << b << " expert " << e;
    }
  }
  EXPECT_TRUE(f.asked[2].empty());
  // The chosen slot is exactly the expert's projection of its standardised hidden state.
  const auto expect0 = model->projections[0]->as<torch::nn::Linear>()->forward(f.hidden[0][0].unsqueeze(0));
  EXPECT_TRUE(torch::allclose(z[0].slice(0, 0, config.dim), expect0.squeeze(0)));
  // Weighted fusion sums the gated projections into one d-wide vector.
  relmoe::MoeModel weighted(small_config(relmoe::Routing::full, relmoe::Fusion::weighted));
  EXPECT_EQ(weighted->fuse(weighted->gates(batch, false), 6, f.fn()).size(1), config.dim);
}

TEST(ModelIo, SaveLoadGivesIdenticalScores) {
  torch::manual_seed(4);
  auto config = small_config(relmoe::Routing::hard, relmoe::Fusion::concat);
  relmoe::MoeModel model(config);
  model->set_standardisation(1, torch::randn({6}), torch::rand({6}) + 0.5);
  const auto dir = relmoe::test::scratch_dir() / "relmoe_model_io";
  fs::remove_all(dir);
  relmoe::save_model(model, dir);
  auto loaded = relmoe::load_model(dir);
  EXPECT_EQ(relmoe::to_json(loaded->config), relmoe::to_json(model->config));
  Fetcher f(config, 20);
  const auto batch = random_batch(20);
  model->eval();
  const auto a = model->forward(batch, f.fn(), false), b = loaded->forward(batch, f.fn(), false);
  EXPECT_TRUE(torch::equal(a.logits, b.logits));
  EXPECT_TRUE(torch::equal(a.gates.active, b.gates.active));
  // A weight file that does not fit the config is rejected by name.
  config.dim = 5;
  relmoe::MoeModel other(config);
  relmoe::save_model(other, dir / "other");
  fs::copy_file(dir / "config.json", dir / "other" / "config.json", fs::copy_options::overwrite_existing);
  try {
    relmoe::load_model(dir / "other");
    FAIL() << "expected a shape error";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("does not match the config"), std::string::npos) << e.what();
  }
}
