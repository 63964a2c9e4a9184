#pragma once
// Fixtures for the batch-scorer tests: a small MoE over random experts written to disk the way
// `relmoe train` leaves it (config.json, model.safetensors, experts.json), and pairs files.
#include "io/checkpoint.hpp"
#include "io/pair_reader.hpp"
#include "io/pair_writer.hpp"
#include "models/family.hpp"
#include "models/model_config.hpp"
#include "models/random_expert.hpp"
#include "moe/model_experts.hpp"
#include "moe/model_io.hpp"
#include "pipeline/embed_features.hpp"

#include <cmath>
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

// How far a score (logit) of the MoE in `model_dir` may move when its pairs' hidden states come from other
// batches (another shard, chunk or token budget) on the default, batched path: docs/PIPELINE.md,
// "Scores across shards and resumes". Batches of other shapes round in other orders in f32, which
// moves a hidden state in its last bits; rounded to the f16 feature dtype, each feature then
// lands on the same f16 value or on the neighbouring one: it moves by at most one f16 step (ulp)
// at its magnitude. A final RMSNorm output has |h_j| <= sqrt(H) |scale_j| (its RMS is 1), so
// feature j of expert e moves by at most ulp16(sqrt(H_e) |scale_ej|). Through the MoE, with every
// gate <= 1 and ReLU 1-Lipschitz, the logit moves by at most
//   |w_out|^T |W_hidden| (sum or concat over experts of |P_e| (inv_std_e * dh_e)).
// The f32 rounding of the router and of the fusion itself is smaller by orders of magnitude
// (relative 2^-24 per operation against 2^-11): the factor 1.5 covers it. A pair whose top-k is
// tied within rounding could switch experts; the tests' pairs have no such tie.
inline double batching_bound(const std::filesystem::path& model_dir, const std::vector<ExpertRecord>& experts) {
  torch::NoGradGuard no_grad;
  auto model = load_model(model_dir);
  const auto& c = model->config;
  auto ulp16 = [](const torch::Tensor& magnitude) {  // one f16 step at each magnitude (normal range)
    return torch::pow(2.0, torch::floor(torch::log2(magnitude.clamp_min(6.2e-5))) - 10.0);
  };
  std::vector<torch::Tensor> slots;
  for (std::size_t e = 0; e < experts.size(); ++e) {
    const auto config = load_model_config(experts[e].dir);
    const auto& family = family_of(config);
    auto scale = Checkpoint::open(experts[e].dir)
                     .get(layer_name(family.names.final_norm, 0) + ".weight", torch::kFloat32, torch::kCPU);
    if (family.norm_offset) scale = scale + 1.0;
    const auto dh = ulp16(std::sqrt(static_cast<double>(config.hidden_size)) * scale.abs());
    const auto proj = model->projections[e]->as<torch::nn::Linear>()->weight.abs();
    slots.push_back(torch::mv(proj, model->inv_stds[e].abs() * dh));
  }
  auto dz = c.fusion == Fusion::concat ? torch::cat(slots) : torch::stack(slots).sum(0);
  if (c.market_classifier) dz = torch::cat({dz, torch::zeros({c.market_dim})});  // markets are exact
  for (const auto& layer : model->classifier->children())
    if (const auto* linear = layer->as<torch::nn::Linear>()) dz = torch::mv(linear->weight.abs(), dz);
  return 1.5 * dz.sum().item<double>();
}
inline double batching_bound(const TinyMoe& moe) { return batching_bound(moe.model, moe.experts); }

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
