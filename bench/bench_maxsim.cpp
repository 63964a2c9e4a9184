// MaxSim scoring for reranking: one query (32 tokens x 128) against 100 candidates of up to 64
// tokens, as the service computes it (one sgemm over the packed candidates, then a segmented
// max), next to the same-shape torch::mm alone measured in the same run (the target:
// MaxSim >= 0.5 of that sgemm rate), and the service's whole scoring path (f16 index rows
// gathered to f32 + MaxSim).
//
//   bench_maxsim [--threads 1] [--candidates 100] [--iters 2000]
#include "bench_support.hpp"
#include "runtime/compute.hpp"
#include "runtime/process_setup.hpp"
#include "student/item_index.hpp"
#include "student/maxsim.hpp"

#include <torch/utils.h>
#include <torch/nn/functional.h>

#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace {

using relmoe::bench::arg;
using relmoe::bench::Clock;
using relmoe::bench::seconds_since;

template <class F>
double per_second(int iters, F&& f) {
  f();  // warm-up
  const auto start = Clock::now();
  for (int i = 0; i < iters; ++i) f();
  return iters / seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  relmoe::configure_process(argc, argv);
  const int threads = arg(argc, argv, "--threads", 1), candidates = arg(argc, argv, "--candidates", 100);
  const int iters = arg(argc, argv, "--iters", 2000);
  relmoe::set_threads(threads);
  const std::int64_t Lq = 32, dim = 128;
  torch::manual_seed(1);
  std::vector<std::int64_t> lengths;
  for (int c = 0; c < candidates; ++c) lengths.push_back(16 + torch::randint(49, {1}).item<std::int64_t>());  // 16..64
  std::int64_t rows = 0;
  for (auto n : lengths) rows += n;
  const auto query = torch::nn::functional::normalize(torch::randn({Lq, dim}),
                                                      torch::nn::functional::NormalizeFuncOptions().dim(1));
  const auto tokens = torch::nn::functional::normalize(torch::randn({rows, dim}),
                                                       torch::nn::functional::NormalizeFuncOptions().dim(1));
  const double flop = 2.0 * Lq * rows * dim;

  const double gemm = per_second(iters, [&] { torch::mm(query, tokens.t()); });
  const double maxsim = per_second(iters, [&] { relmoe::maxsim_packed(query, tokens, lengths); });
  // The service's path: the candidates' f16 rows from an item index, then MaxSim.
  const auto dir = std::filesystem::temp_directory_path() / ("relmoe_bench_maxsim_" + std::to_string(::getpid()));
  std::vector<std::int64_t> rows_of;
  {
    relmoe::ItemIndexWriter writer(dir, dim, "bench");
    auto vectors = torch::zeros({candidates, 64, dim});
    std::vector<std::string> ids;
    std::int64_t at = 0;
    for (int c = 0; c < candidates; ++c) {
      vectors[c].narrow(0, 0, lengths[static_cast<std::size_t>(c)]).copy_(tokens.narrow(0, at, lengths[static_cast<std::size_t>(c)]));
      at += lengths[static_cast<std::size_t>(c)];
      ids.push_back(std::to_string(c));
      rows_of.push_back(c);
    }
    writer.add(ids, {vectors, torch::ones({candidates, 64}, torch::kBool), lengths});
    writer.commit(true);
  }
  const auto index = relmoe::ItemIndex::open(dir);
  const double served = per_second(iters, [&] { relmoe::maxsim_packed(query, index.gather(rows_of), lengths); });
  std::filesystem::remove_all(dir);
  std::cout << "threads " << threads << ", " << candidates << " candidates, " << rows << " item tokens, query " << Lq
            << " x " << dim << "\n"
            << "sgemm [32x128]x[128x" << rows << "] (torch::mm): " << gemm << "/s, " << gemm * flop / 1e9 << " GFLOP/s\n"
            << "MaxSim (sgemm + segmented max): " << maxsim << "/s, " << maxsim * flop / 1e9 << " GFLOP/s, "
            << maxsim / gemm << " of the sgemm rate\n"
            << "MaxSim from the f16 item index (the service's path: gather + MaxSim): " << served << "/s, " << served * flop / 1e9
            << " GFLOP/s, " << served / gemm << " of the sgemm rate\n";
  return 0;
}
