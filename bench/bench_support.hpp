#pragma once
// What several benchmarks measure the same way: elapsed time and the in-process sgemm rate, the
// anchor every forward throughput is compared with in the same run.
#include <torch/torch.h>

#include <chrono>
#include <cstdlib>
#include <string>

namespace relmoe::bench {

using Clock = std::chrono::steady_clock;

inline double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The integer after `name` on the command line, or `fallback`.
inline int arg(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  return fallback;
}

// The text after `name` on the command line, or `fallback`.
inline std::string text_arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return argv[i + 1];
  return fallback;
}

// GFLOP/s of an n x n x n float32 torch::mm, after one warm-up.
inline double sgemm_gflops(int n, int iters) {
  auto a = torch::randn({n, n}), b = torch::randn({n, n});
  torch::mm(a, b);
  const auto start = Clock::now();
  for (int i = 0; i < iters; ++i) torch::mm(a, b);
  return 2.0 * n * n * n * iters / seconds_since(start) / 1e9;
}

}  // namespace relmoe::bench
