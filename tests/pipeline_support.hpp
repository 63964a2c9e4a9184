#pragma once
// Fixtures for the batch-scorer tests: a small MoE over random experts written to disk the way
// `relmoe train` leaves it (config.json, model.safetensors, experts.json), and pairs files.
#include "io/pair_reader.hpp"
#include "io/pair_writer.hpp"
#include "models/random_expert.hpp"
#include "moe/model_experts.hpp"
#include "moe/model_io.hpp"
#include "pipeline/embed_features.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace relmoe::test {

struct TinyMoe {
  std::filesystem::path root, model;
  std::vector<ExpertRecord> experts;
};

inline const std::vector<std::string>& tiny_markets() {
  static const std::vector<std::string> m = {"m-a", "m-b", "m-c"};  // sorted, as training keeps them
  return m;
}

// Three random experts of three families and widths, and a randomly initialised MoE over them.
inline TinyMoe make_tiny_moe(const std::string& name, Routing routing, int k = 2) {
  TinyMoe t;
  t.root = std::filesystem::temp_directory_path() / ("relmoe_pipe_" + name);
  std::filesystem::remove_all(t.root);
  const char* archs[] = {"qwen2", "llama", "gemma2"};
  const std::int64_t widths[] = {32, 48, 32};
  MoeConfig c;
  for (int e = 0; e < 3; ++e) {
    RandomExpertOptions o;
    o.arch = archs[e];
    o.hidden = widths[e];
    o.intermediate = 2 * widths[e];
    o.seed = 100 + e;
    const auto dir = t.root / ("expert" + std::to_string(e));
    write_random_expert(dir, o);
    t.experts.push_back({"e" + std::to_string(e), dir});
    c.experts.push_back("e" + std::to_string(e));
    c.widths.push_back(widths[e]);
  }
  c.routing = routing;
  c.k = k;
  c.dim = 16;
  c.hidden = 16;
  c.hashing.buckets = 1024;
  c.markets = tiny_markets();
  torch::manual_seed(7);
  MoeModel model(c);
  model->eval();
  t.model = t.root / "model";
  save_model(model, t.model);
  std::vector<ExpertRecord> listed;
  for (int e = 0; e < 3; ++e) listed.push_back({t.experts[e].name, t.experts[e].dir, widths[e]});
  write_model_experts(t.model, listed);
  return t;
}

// `n` pairs with prompts of varied length; every 7th repeats an earlier pair's text (cache).
inline std::vector<Pair> tiny_pairs(int n, std::uint64_t seed = 1) {
  std::vector<Pair> pairs;
  std::uint64_t s = seed;
  auto next = [&s] { return (s = s * 6364136223846793005ULL + 1442695040888963407ULL) >> 33; };
  const char* words[] = {"red", "shoe", "kaos", "polos", "giày", "đen", "รองเท้า", "cotton", "size", "XL", "pack"};
  for (int i = 0; i < n; ++i) {
    Pair p;
    p.id = "p" + std::to_string(i);
    p.market = tiny_markets()[next() % 3];
    if (i % 7 == 6) {
      p.query = pairs[i - 3].query;
      p.item = pairs[i - 3].item;
      p.market = pairs[i - 3].market;
    } else {
      for (std::uint64_t w = 0, m = 1 + next() % 4; w < m; ++w) p.query += std::string(w ? " " : "") + words[next() % 11];
      for (std::uint64_t w = 0, m = 2 + next() % 14; w < m; ++w) p.item += std::string(w ? " " : "") + words[next() % 11];
    }
    p.label = static_cast<float>(next() % 2);
    pairs.push_back(p);
  }
  return pairs;
}

// id -> score text of a scores TSV (header skipped), in file order.
inline std::vector<std::pair<std::string, std::string>> read_scores(const std::filesystem::path& path) {
  std::vector<std::pair<std::string, std::string>> out;
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  while (std::getline(in, line)) {
    const auto tab = line.find('\t');
    const auto end = line.find('\t', tab + 1);
    out.emplace_back(line.substr(0, tab), line.substr(tab + 1, end == std::string::npos ? end : end - tab - 1));
  }
  return out;
}

inline std::string read_text(const std::filesystem::path& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace relmoe::test
