#pragma once
// A randomly initialised expert directory for benchmarks and tests that must not depend on
// downloaded or trained models: config.json + model.safetensors (random_weights) and a
// byte-level tokenizer.json with one token per byte (256 ids, no merges), so any UTF-8 text
// encodes to exactly its byte count. No relmoe.json: the default prompt template applies.
#include <cstdint>
#include <filesystem>
#include <string>

namespace relmoe {

struct RandomExpertOptions {
  std::string arch = "qwen2";  // qwen2 | llama | gemma2
  std::int64_t hidden = 32, intermediate = 64, layers = 2, heads = 4, kv_heads = 2;
  std::int64_t head_dim = 0;  // 0: hidden / heads
  std::int64_t vocab = 256;   // at least the byte tokenizer's 256
  std::int64_t max_positions = 4096;
  std::uint64_t seed = 1;
  // false: config.json and tokenizer.json only, for an expert loaded with
  // ExpertOptions::random_weights_seed (a real size without its files).
  bool weights = true;
};

void write_random_expert(const std::filesystem::path& dir, const RandomExpertOptions& options);

}  // namespace relmoe
