#pragma once
// What several benchmarks measure the same way: elapsed time and the in-process sgemm rate, the
// anchor every forward throughput is compared with in the same run.
#include "runtime/accelerator.hpp"

#include <torch/types.h>

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

// GFLOP/s of an n x n x n matmul in `dtype` on `stream`'s device, after one warm-up, timed by
// the stream (CUDA events on a GPU, the wall clock on the CPU).
inline double gemm_gflops(LaneStream& stream, torch::ScalarType dtype, int n, int iters) {
  const auto options = torch::TensorOptions().dtype(dtype).device(stream.device());
  auto a = torch::randn({n, n}, options), b = torch::randn({n, n}, options);
  stream.run([&] { torch::mm(a, b); });
  const double seconds = stream.run([&] {
    for (int i = 0; i < iters; ++i) torch::mm(a, b);
  });
  return 2.0 * n * n * n * iters / seconds / 1e9;
}

// GFLOP/s of an n x n x n float32 torch::mm on the CPU.
inline double sgemm_gflops(int n, int iters) {
  return gemm_gflops(*make_lane_stream(torch::kCPU), torch::kFloat32, n, iters);
}

}  // namespace relmoe::bench
