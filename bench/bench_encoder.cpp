// Encoder forward throughput on a randomly initialised bert-base shape (12 layers, hidden 768,
// 12 heads, ffn 3072, vocab 119,547 as bert-base-multilingual; never committed): written as
// safetensors to a temp dir and loaded through Encoder::load, then batch x tokens forward
// passes. Prints tokens/s and achieved GFLOP/s against a large sgemm measured in the same run.
//
//   bench_encoder [--threads 2] [--batch 32] [--tokens 128] [--iters 3] [--layers 12]
#include "models/encoder.hpp"
#include "runtime/compute.hpp"
#include "bench_support.hpp"
#include "runtime/process_setup.hpp"

#include <torch/utils.h>
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <unistd.h>

namespace {

using relmoe::bench::arg;
using relmoe::bench::Clock;
using relmoe::bench::seconds_since;
using relmoe::bench::sgemm_gflops;

}  // namespace

int main(int argc, char** argv) {
  relmoe::configure_process(argc, argv);
  const int threads = arg(argc, argv, "--threads", 2), batch = arg(argc, argv, "--batch", 32);
  const int tokens = arg(argc, argv, "--tokens", 128), iters = arg(argc, argv, "--iters", 3);
  const int layers = arg(argc, argv, "--layers", 12);
  relmoe::set_threads(threads);
  std::cout << "threads " << threads << ", batch " << batch << " x " << tokens << " tokens, " << layers << " layers\n";
  const double sgemm = sgemm_gflops(2048, 10);
  std::cout << "sgemm 2048x2048 (torch::mm): " << sgemm << " GFLOP/s\n";

  const nlohmann::json config = {{"model_type", "bert"},          {"vocab_size", 119547},
                                 {"hidden_size", 768},            {"intermediate_size", 3072},
                                 {"num_hidden_layers", layers},   {"num_attention_heads", 12},
                                 {"max_position_embeddings", 512}, {"type_vocab_size", 2},
                                 {"layer_norm_eps", 1e-12},       {"hidden_act", "gelu"}};
  const auto dir = std::filesystem::temp_directory_path() / ("relmoe_bench_encoder_" + std::to_string(::getpid()));
  relmoe::Encoder::random(relmoe::parse_encoder_config(config, "bench config"), torch::kCPU, 1).save(dir);
  {
    torch::InferenceMode guard;
    const auto encoder = relmoe::Encoder::load(dir, torch::kFloat32, torch::kCPU);
    const auto ids = torch::randint(119547, {batch, tokens}, torch::kInt64);
    const relmoe::EncoderBatch input{ids, torch::ones({batch, tokens}, torch::kBool), torch::zeros({batch, tokens}, torch::kInt64)};
    encoder.forward(input);  // warm-up
    const auto start = Clock::now();
    for (int i = 0; i < iters; ++i) encoder.forward(input);
    const double elapsed = seconds_since(start);
    // Needed FLOPs per token: Q, K, V, O and the MLP, plus attention over the sequence.
    const double h = 768, ffn = 3072;
    const double flops = 2.0 * layers * (4 * h * h + 2 * h * ffn + 2 * tokens * h) * batch * tokens * iters;
    const double gflops = flops / elapsed / 1e9;
    std::cout << "encoder forward: " << double(batch) * tokens * iters / elapsed << " tokens/s, " << gflops
              << " GFLOP/s, " << gflops / sgemm << " of sgemm\n";
  }
  std::filesystem::remove_all(dir);
  return 0;
}
