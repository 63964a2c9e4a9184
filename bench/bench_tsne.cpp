// Exact t-SNE cost at the report's sizes: seconds per map for n points of dimension d (the fused
// representation z: N*d = 768 for concat, 256 for weighted), split into the affinity search and
// the gradient descent.
//
//   bench_tsne [n=1000] [dim=768] [threads=2]
#include "eval/tsne.hpp"

#include <torch/utils.h>
#include <chrono>
#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  const long n = argc > 1 ? std::atol(argv[1]) : 1000;
  const long dim = argc > 2 ? std::atol(argv[2]) : 768;
  torch::set_num_threads(argc > 3 ? std::atoi(argv[3]) : 2);
  torch::manual_seed(0);
  const auto x = torch::randn({n, dim}) + torch::randint(0, 4, {n, 1}).to(torch::kFloat32) * 3;
  for (int iterations : {0, 750}) {
    relmoe::TsneOptions o;
    o.iterations = iterations;
    const auto start = std::chrono::steady_clock::now();
    relmoe::tsne(x, o);
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "n=" << n << " dim=" << dim << " iterations=" << iterations << ": " << s << " s\n";
  }
}
