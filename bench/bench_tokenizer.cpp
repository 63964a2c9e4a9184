// Tokenization throughput (MB/s of UTF-8 input) of every tokenizer the experts use, on real
// relevance pairs and product titles from ../shared, one thread (MB/s per core; encode is
// thread-safe and shares nothing mutable but the word cache). Run from the repository root:
//   build/bench_tokenizer [--benchmark_filter=...]
// ../shared is found through $RELMOE_SHARED, ./../shared or ./../../shared.
#include "text/tokenizer.hpp"

#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

namespace {

namespace fs = std::filesystem;

fs::path shared_dir() {
  if (const char* env = std::getenv("RELMOE_SHARED")) return env;
  for (const char* candidate : {"../shared", "../../shared"})
    if (fs::exists(candidate)) return candidate;
  return "../shared";
}

// Tab-separated columns `wanted` (0-based) of every row after the header, non-empty only.
std::vector<std::string> read_columns(const fs::path& path, std::vector<int> wanted, std::size_t limit) {
  std::vector<std::string> texts;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (texts.size() < limit && std::getline(in, line)) {
    std::vector<std::string> fields;
    std::istringstream row(line);
    for (std::string field; std::getline(row, field, '\t');) fields.push_back(field);
    for (int column : wanted)
      if (column < static_cast<int>(fields.size()) && !fields[column].empty()) texts.push_back(fields[column]);
  }
  return texts;
}

void encode_all(benchmark::State& state, const relmoe::Tokenizer* tokenizer, const std::vector<std::string>* texts) {
  std::size_t bytes = 0, tokens = 0;
  for (const auto& t : *texts) bytes += t.size();
  for (auto _ : state) {
    for (const auto& text : *texts) {
      auto ids = tokenizer->encode(text, false);
      tokens += ids.size();
      benchmark::DoNotOptimize(ids.data());
    }
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(bytes * state.iterations()));
  state.counters["tokens/s"] = benchmark::Counter(static_cast<double>(tokens), benchmark::Counter::kIsRate);
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  const auto shared = shared_dir();
  const auto relevance_path = shared / "data/relevance/train.tsv";
  const auto titles_path = shared / "data/corpus/titles.tsv";
  if (!fs::exists(relevance_path) || !fs::exists(titles_path)) {
    std::cerr << "bench_tokenizer: skipped: " << relevance_path << " or " << titles_path
              << " not found (set RELMOE_SHARED)\n";
    return 0;
  }
  // query, item, item_desc of relevance pairs; product titles (mostly Southeast Asian markets).
  static const auto relevance = read_columns(relevance_path, {3, 4, 5}, 30000);
  static const auto titles = read_columns(titles_path, {1}, 30000);

  const std::pair<const char*, const char*> tokenizers[] = {
      {"qwen2.5", "tokenizers/qwen2.5/tokenizer.json"},
      {"gemma2", "tokenizers/gemma2/tokenizer.json"},
      {"llama3", "tokenizers/llama3/tokenizer.json"},
      {"llama2-spm", "tokenizers/llama2-spm/tokenizer.model"},
      {"wordpiece", "reference/encoders/tiny-bert/tokenizer.json"},
      {"unigram", "reference/encoders/tiny-xlm-roberta/tokenizer.json"}};
  static std::vector<std::unique_ptr<relmoe::Tokenizer>> loaded;
  for (const auto& [name, relative] : tokenizers) {
    const auto path = shared / relative;
    if (!fs::exists(path)) {
      std::cerr << "bench_tokenizer: skipping " << name << ": " << path << " not found\n";
      continue;
    }
    benchmark::RegisterBenchmark((std::string("load/") + name).c_str(), [path](benchmark::State& state) {
      for (auto _ : state) benchmark::DoNotOptimize(relmoe::load_tokenizer(path).get());
    })->Unit(benchmark::kMillisecond)->Iterations(1);
    loaded.push_back(relmoe::load_tokenizer(path));
    const relmoe::Tokenizer* tok = loaded.back().get();
    for (const auto& [data_name, data] : {std::pair{"relevance", &relevance}, std::pair{"titles", &titles}})
      benchmark::RegisterBenchmark((std::string("encode/") + name + "/" + data_name).c_str(), encode_all, tok, data)
          ->Unit(benchmark::kMillisecond);
  }
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
