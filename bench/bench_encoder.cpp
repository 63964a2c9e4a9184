// Encoder forward throughput on a randomly initialised bert-base shape (12 layers, hidden 768,
// 12 heads, ffn 3072, vocab 119,547 as bert-base-multilingual; never committed): written as
// safetensors to a temp dir and loaded through Encoder::load, then batch x tokens forward
// passes. Prints tokens/s and achieved GFLOP/s against a large sgemm measured in the same run.
//
//   bench_encoder [--threads 2] [--batch 32] [--tokens 128] [--iters 3] [--layers 12]
#include "io/safetensors_writer.hpp"
#include "models/encoder.hpp"
#include "runtime/compute.hpp"
#include "bench_support.hpp"
#include "runtime/process_setup.hpp"

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <unistd.h>

namespace {

using relmoe::bench::Clock;
using relmoe::bench::seconds_since;
using relmoe::bench::sgemm_gflops;

int arg(int argc, char** argv, const std::string& name, int fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name) return std::atoi(argv[i + 1]);
  return fallback;
}

// Matrices ~ N(0, 0.02), norm scales 1, biases 0, as Hugging Face initialises BERT.
void write_random_bert(const std::filesystem::path& dir, const nlohmann::json& config) {
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "config.json") << config.dump(2);
  const auto specs = relmoe::encoder_tensor_specs(relmoe::parse_encoder_config(config, "bench config"), "");
  std::vector<relmoe::SafetensorsEntry> entries;
  for (const auto& s : specs) entries.push_back({s.name, "F32", s.shape});
  relmoe::SafetensorsWriter writer(dir / "model.safetensors", entries, {{"format", "pt"}});
  for (const auto& s : specs) {
    const auto t = s.role == relmoe::TensorRole::Norm   ? torch::ones(s.shape)
                   : s.role == relmoe::TensorRole::Bias ? torch::zeros(s.shape)
                                                        : torch::randn(s.shape) * 0.02;
    writer.write(t.data_ptr(), t.numel() * t.element_size());
  }
  writer.finish();
}

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
  write_random_bert(dir, config);
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
