// Router throughput on one core: feature hashing, forward pass, and both together.
//   build/bench_router
#include "moe/router.hpp"
#include "moe/router_features.hpp"
#include "runtime/compute.hpp"

#include <benchmark/benchmark.h>

#include <numeric>

namespace {

// Realistic multilingual (query, item) lengths: ~20-char queries, ~80-char item titles.
const std::vector<std::pair<std::string, std::string>> kPairs = {
    {"rote damen sneaker 39", "Damen > Schuhe > Sneaker > Low-Top Sneaker aus Leder, rot, Größe 39"},
    {"cordless drill 18v", "Milwaukee M18 FUEL 18-Volt Lithium-Ion Brushless Cordless 1/2 in. Hammer Drill"},
    {"เสื้อยืดผู้ชาย", "เสื้อยืดคอกลม ผ้าฝ้าย 100% สำหรับผู้ชาย สีขาว ไซส์ L"},
    {"ốp lưng iphone 13", "Ốp lưng điện thoại iPhone 13 Pro Max silicon chống sốc trong suốt"},
    {"ワイヤレスイヤホン", "家電 > オーディオ > イヤホン・ヘッドホン > ワイヤレスイヤホン"},
    {"sepatu lari pria", "Sepatu Lari Pria Running Shoes Ringan Original Sol Karet Anti Slip"},
};

relmoe::HashConfig hashing() { return {}; }

void BM_RouterFeatures(benchmark::State& state) {
  std::vector<std::int64_t> out;
  std::size_t i = 0;
  for (auto _ : state) {
    out.clear();
    const auto& p = kPairs[i++ % kPairs.size()];
    relmoe::hash_pair_features(p.first, p.second, hashing(), out);
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RouterFeatures);

void BM_RouterForward(benchmark::State& state) {
  relmoe::set_threads(1);
  const std::int64_t batch = state.range(0);
  relmoe::FeatureBags bags;
  for (std::int64_t i = 0; i < batch; ++i) bags.add(kPairs[i % kPairs.size()].first, kPairs[i % kPairs.size()].second, hashing());
  std::vector<std::int64_t> positions(static_cast<std::size_t>(batch));
  std::iota(positions.begin(), positions.end(), 0);
  relmoe::Router router(hashing().buckets, 12, 3, 16, 8, 64);
  torch::NoGradGuard no_grad;
  const auto markets = torch::arange(batch, torch::kLong) % 12;
  for (auto _ : state) {
    const auto [ids, offsets] = bags.gather(positions);
    auto logits = router->forward(ids, offsets, markets);
    benchmark::DoNotOptimize(std::get<1>(logits.topk(2, 1)).data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_RouterForward)->Arg(256)->Arg(1024);

void BM_RouterEndToEnd(benchmark::State& state) {
  relmoe::set_threads(1);
  const std::int64_t batch = 1024;
  relmoe::Router router(hashing().buckets, 12, 3, 16, 8, 64);
  torch::NoGradGuard no_grad;
  const auto markets = torch::arange(batch, torch::kLong) % 12;
  std::vector<std::int64_t> positions(static_cast<std::size_t>(batch));
  std::iota(positions.begin(), positions.end(), 0);
  for (auto _ : state) {
    relmoe::FeatureBags bags;
    for (std::int64_t i = 0; i < batch; ++i)
      bags.add(kPairs[i % kPairs.size()].first, kPairs[i % kPairs.size()].second, hashing());
    const auto [ids, offsets] = bags.gather(positions);
    auto logits = router->forward(ids, offsets, markets);
    benchmark::DoNotOptimize(std::get<1>(logits.topk(2, 1)).data_ptr());
  }
  state.SetItemsProcessed(state.iterations() * batch);
}
BENCHMARK(BM_RouterEndToEnd);

}  // namespace

BENCHMARK_MAIN();
