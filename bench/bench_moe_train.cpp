// MoE training throughput on cached features: three experts of widths 896/1024/2048 in an f16
// store on disk, 2 threads, batch 128, a three-epoch training run per iteration (set-up, forward,
// backward, Adam step, store reads and f16 -> f32 conversion, and the dev pass after each epoch).
//   build/bench_moe_train [--benchmark_filter=...]
#include "io/feature_store.hpp"
#include "moe/trainer.hpp"
#include "runtime/compute.hpp"
#include "runtime/process_setup.hpp"

#include <benchmark/benchmark.h>

#include <filesystem>

namespace {

constexpr std::int64_t kTrain = 8192, kDev = 512;
constexpr int kEpochs = 3;

struct Data {
  std::filesystem::path dir = std::filesystem::temp_directory_path() / "relmoe_bench_moe_store";
  std::vector<relmoe::Pair> train, dev;
};

const Data& data() {
  static const Data d = [] {
    Data d;
    std::vector<std::string> ids;
    const char* markets[] = {"id", "my", "ph", "sg", "th", "vn"};
    for (std::int64_t i = 0; i < kTrain + kDev; ++i) {
      relmoe::Pair p;
      p.id = "b" + std::to_string(i);
      p.market = markets[i % 6];
      p.query = "query number " + std::to_string(i % 977);
      p.item = "an item title with some words " + std::to_string(i % 1511);
      p.label = static_cast<float>(i % 3 == 0);
      (i < kTrain ? d.train : d.dev).push_back(p);
      ids.push_back(p.id);
    }
    std::filesystem::remove_all(d.dir);
    const std::vector<relmoe::ExpertColumn> experts = {{{"qwen", {}, 896}, torch::kFloat16, true, 0},
                                                       {{"gemma", {}, 1024}, torch::kFloat16, true, 0},
                                                       {{"sailor", {}, 2048}, torch::kFloat16, true, 0}};
    relmoe::FeatureStoreWriter w(d.dir, ids, experts);
    torch::manual_seed(0);
    for (const auto& e : experts)
      for (std::int64_t s = 0; s < kTrain + kDev; s += 4096) {
        const auto n = std::min<std::int64_t>(4096, kTrain + kDev - s);
        w.append(e.name, torch::randn({n, e.width}), torch::randn({n}));
      }
    w.commit();
    return d;
  }();
  return d;
}

void BM_TrainEpoch(benchmark::State& state, relmoe::Routing routing, relmoe::Fusion fusion) {
  const auto& d = data();
  relmoe::set_threads(2);
  const auto store = relmoe::FeatureStore::open(d.dir);
  relmoe::MoeConfig c;
  c.routing = routing;
  c.fusion = fusion;
  relmoe::TrainOptions o;
  o.epochs = kEpochs;
  o.patience = kEpochs;  // no early stop: every run does the same work
  o.progress = false;
  for (auto _ : state) benchmark::DoNotOptimize(relmoe::train_model(c, store, d.train, d.dev, o).dev_auc);
  state.SetItemsProcessed(state.iterations() * kTrain * kEpochs);
}
BENCHMARK_CAPTURE(BM_TrainEpoch, hard_concat, relmoe::Routing::hard, relmoe::Fusion::concat)
    ->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();
BENCHMARK_CAPTURE(BM_TrainEpoch, full_concat, relmoe::Routing::full, relmoe::Fusion::concat)
    ->Unit(benchmark::kMillisecond)->Iterations(1)->Repetitions(3)->ReportAggregatesOnly(true)->UseRealTime();

}  // namespace

// The OpenMP and BLAS settings of the relmoe binary (runtime/process_setup.hpp).
int main(int argc, char** argv) {
  relmoe::configure_process(argc, argv);
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
}
