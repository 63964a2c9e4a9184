// Speed of synthetic data generation (pairs per second, including titles and the corpus).
#include "synth/synth.hpp"

#include <benchmark/benchmark.h>

static void BM_SynthGenerate(benchmark::State& state) {
  relmoe::synth::Options options;
  options.pairs = static_cast<std::size_t>(state.range(0));
  for (auto _ : state) {
    auto data = relmoe::synth::generate(options);
    benchmark::DoNotOptimize(data.train.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_SynthGenerate)->Arg(100000)->Unit(benchmark::kMillisecond);

BENCHMARK_MAIN();
