#include "flow/ablation.hpp"

#include "base/error.hpp"
#include "base/stopwatch.hpp"
#include "io/json_file.hpp"
#include "eval/comparison.hpp"
#include "eval/report.hpp"
#include "moe/dataset.hpp"
#include "moe/model_experts.hpp"
#include "moe/model_io.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <set>

namespace relmoe {

namespace {

struct Variant {
  std::string name;
  MoeConfig config;
  bool score_only = false;     // single:<expert>: the store's score column, nothing trained
  bool tune_capacity = false;  // d = hidden chosen from the capacity grid on dev
  double lambda_cost = 0;
};

MoeConfig variant_config(const MoeConfig& base, std::vector<std::string> experts, Routing routing, Fusion fusion) {
  MoeConfig c = base;
  c.experts = std::move(experts);
  c.widths.clear();
  c.routing = routing;
  c.fusion = fusion;
  c.k = std::min<int>(base.k, static_cast<int>(c.experts.size()));
  c.rule.clear();
  return c;
}

// AblationOptions::feature_margin for one variant's configuration.
void add_feature_margin(MoeConfig& c, const std::vector<std::string>& features) {
  for (const auto& e : c.experts)
    if (std::find(features.begin(), features.end(), e) != features.end()) c.margin.push_back(e);
  if (c.margin.empty()) return;
  c.market_classifier = true;
  if (c.uses_router() && c.margin.size() < c.experts.size()) c.shared = c.margin;
  c.k = std::min<int>(c.k, static_cast<int>(c.num_routed()));
}

std::vector<std::string> grid_experts(const MoeConfig& base, const FeatureStore& store) {
  std::vector<std::string> experts = base.experts;
  if (experts.empty())
    for (const auto& e : store.experts()) experts.push_back(e.name);
  return experts;
}

std::vector<std::string> feature_experts(const std::vector<std::string>& experts, const FeatureStore& store) {
  std::vector<std::string> out;
  for (const auto& e : experts)
    if (is_feature_expert(store, e)) out.push_back(e);
  return out;
}

std::string lambda_text(double lambda) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", lambda);
  return buf;
}

std::vector<Variant> variants(const AblationOptions& o, const FeatureStore& store) {
  const MoeConfig& base = o.base;
  const auto experts = grid_experts(base, store);
  const auto features = feature_experts(experts, store);
  std::vector<std::string> llm;
  for (const auto& e : experts)
    if (std::find(features.begin(), features.end(), e) == features.end()) llm.push_back(e);
  std::vector<Variant> out;
  auto fused = [&](std::string name, MoeConfig config, double lambda_cost = 0) {
    if (o.feature_margin) add_feature_margin(config, features);
    out.push_back({std::move(name), std::move(config), false, true, lambda_cost});
  };
  for (const auto& e : experts)
    if (store.experts()[store.expert_index(e)].has_score)
      out.push_back({"single:" + e, variant_config(base, {e}, Routing::full, Fusion::concat), true});
  for (const auto& e : experts) out.push_back({"probe:" + e, probe_config(base, e)});
  // A feature expert's own vector through the fusion classifier: what fusing adds beyond the
  // classifier itself.
  for (const auto& e : features) fused("mlp:" + e, variant_config(base, {e}, Routing::full, Fusion::concat));
  if (experts.size() < 2) return out;
  for (std::size_t i = 0; i < experts.size(); ++i)
    for (std::size_t j = i + 1; j < experts.size(); ++j)
      fused("fusion:" + experts[i] + "+" + experts[j],
            variant_config(base, {experts[i], experts[j]}, Routing::full, Fusion::concat));
  if (!features.empty() && llm.size() >= 2) {
    fused("llm:full:concat", variant_config(base, llm, Routing::full, Fusion::concat));
    fused("llm:moe:hard:concat", variant_config(base, llm, Routing::hard, Fusion::concat));
  }
  fused("full:concat", variant_config(base, experts, Routing::full, Fusion::concat));
  fused("full:weighted", variant_config(base, experts, Routing::full, Fusion::weighted));
  fused("moe:hard:concat", variant_config(base, experts, Routing::hard, Fusion::concat));
  fused("moe:hard:weighted", variant_config(base, experts, Routing::hard, Fusion::weighted));
  fused("moe:soft:concat", variant_config(base, experts, Routing::soft, Fusion::concat));
  fused("moe:pseudo:concat", variant_config(base, experts, Routing::pseudo, Fusion::concat));
  fused("moe:rule:concat", variant_config(base, experts, Routing::rule, Fusion::concat));
  const bool costs_known = std::all_of(experts.begin(), experts.end(),
                                       [&](const auto& e) { return store.experts()[store.expert_index(e)].cost > 0; });
  if (costs_known)
    for (const double lambda : o.cost_sweep) {
      auto c = variant_config(base, experts, Routing::hard, Fusion::concat);
      c.k = static_cast<int>(experts.size());
      c.min_prob = o.sweep_min_prob;
      fused("moe:cost:" + lambda_text(lambda), c, lambda);
    }
  return out;
}

// Trains one variant; a fusing variant once per capacity-grid width, keeping the best on dev
// (`capacity` records the choice).
TrainResult train_variant(const Variant& v, const FeatureStore& store, const std::vector<Pair>& train,
                          const std::vector<Pair>& dev, const AblationOptions& options, nlohmann::json& capacity) {
  TrainOptions o = options.train;
  o.label = v.name;
  o.lambda_cost = v.lambda_cost;
  o.market_residual = !v.config.margin.empty();
  if (!v.tune_capacity || options.capacity_grid.empty()) return train_model(v.config, store, train, dev, o);
  TrainResult best;
  nlohmann::json by_width = nlohmann::json::object();
  for (const auto width : options.capacity_grid) {
    MoeConfig c = v.config;
    c.dim = c.hidden = width;
    o.label = v.name + " d=" + std::to_string(width);
    auto trained = train_model(c, store, train, dev, o);
    by_width[std::to_string(width)] = trained.dev_auc;
    if (!best.model || trained.dev_auc > best.dev_auc) best = std::move(trained);
  }
  capacity = {{"chosen", best.model->config.dim}, {"dev_auc", by_width}};
  return best;
}

std::filesystem::path scores_path(const std::filesystem::path& out, const std::string& variant) {
  return out / "scores" / (variant_dir_name(variant) + ".tsv");
}

// One variant's test scores with the pairs they belong to.
struct VariantScores {
  ScoredPairs pairs;
  std::vector<std::string> experts;
  std::vector<std::uint8_t> active;
  std::vector<double> costs;
};

VariantScores scored(const PairSet& set, std::vector<double> scores, std::vector<std::string> experts,
                     std::vector<std::uint8_t> active, std::vector<double> costs) {
  return {{set.ids, set.market_names, set.labels, std::move(scores)}, std::move(experts), std::move(active),
          std::move(costs)};
}

VariantScores score_only(const FeatureStore& store, const MoeConfig& config, const std::vector<Pair>& train,
                         const std::vector<Pair>& test) {
  MoeConfig c = config;
  c.widths = {store.experts()[store.expert_index(c.experts[0])].width};
  std::set<std::string> markets;
  for (const auto& p : train) markets.insert(p.market);
  for (const auto& p : test) markets.insert(p.market);  // no training: any market is fine
  c.markets.assign(markets.begin(), markets.end());
  const auto set = make_pair_set(store, test, c, "test data", true);
  const auto s = store.scores(store.expert_index(c.experts[0]), torch::tensor(set.rows)).to(torch::kFloat64).contiguous();
  return scored(set, std::vector<double>(s.data_ptr<double>(), s.data_ptr<double>() + s.numel()), c.experts,
                std::vector<std::uint8_t>(set.ids.size(), 1), {store.experts()[store.expert_index(c.experts[0])].cost});
}

// What must match for a previous run's finished variants to be reused.
nlohmann::json fingerprint(const AblationOptions& o, const std::vector<Pair>& train, const std::vector<Pair>& dev,
                           const std::vector<Pair>& test) {
  const auto& t = o.train;
  return {{"base", to_json(o.base)},
          {"train", {{"batch", t.batch}, {"lr", t.lr}, {"lambda", t.lambda}, {"entropy", t.entropy},
                     {"epochs", t.epochs}, {"patience", t.patience}, {"seed", t.seed}, {"router_lr", t.router_lr},
                     {"router_epochs", t.router_epochs}, {"stat_rows", t.stat_rows},
                     {"weight_decay", t.weight_decay}, {"balance_markets", t.balance_markets}}},
          {"resamples", o.resamples},
          {"seed", o.seed},
          {"capacity_grid", o.capacity_grid},
          {"cost_sweep", o.cost_sweep},
          {"sweep_min_prob", o.sweep_min_prob},
          {"feature_margin", o.feature_margin},
          {"pairs", {train.size(), dev.size(), test.size()}}};
}

// The variants a previous, interrupted run of the same grid finished (entry + scores file).
nlohmann::json finished_variants(const std::filesystem::path& out, const nlohmann::json& fp) {
  const auto previous = read_json_file_or_null(out / "ablation.json");
  if (!previous.is_object() || previous.value("fingerprint", nlohmann::json()) != fp) return nlohmann::json::object();
  return previous;
}

std::string milliseconds(const nlohmann::json& seconds) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", 1e3 * seconds.get<double>());
  return buf;
}

std::string pct(const nlohmann::json& auc) {
  if (auc.is_null()) return "n/a";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2f", 100.0 * auc.get<double>());
  return buf;
}

// One row per margin variant: its correction factor in each market.
std::string residual_markdown(const nlohmann::json& factors, const std::set<std::string>& markets) {
  std::string md = "| variant |", rule = "|---|";
  for (const auto& m : markets) {
    md += " " + m + " |";
    rule += "---:|";
  }
  md += "\n" + rule + "\n";
  for (const auto& [name, by_market] : factors.items()) {
    md += "| " + name + " |";
    for (const auto& m : markets) {
      char buf[16];
      std::snprintf(buf, sizeof buf, " %g |", by_market.value(m, 1.0));
      md += buf;
    }
    md += "\n";
  }
  return md;
}

}  // namespace

std::string variant_dir_name(std::string name) {
  for (char& ch : name)
    if (ch == ':' || ch == '+') ch = '-';
  return name;
}

nlohmann::json run_ablation(const FeatureStore& store, const std::vector<Pair>& train, const std::vector<Pair>& dev,
                            const std::vector<Pair>& test, const AblationOptions& options,
                            const std::filesystem::path& out) {
  if (test.empty()) fail("test data", "holds no pairs");
  std::filesystem::create_directories(out / "models");
  std::filesystem::create_directories(out / "scores");
  const auto fp = fingerprint(options, train, dev, test);
  const auto previous = options.resume ? finished_variants(out, fp) : nlohmann::json::object();
  nlohmann::json result = {{"variants", nlohmann::json::object()},
                           {"order", nlohmann::json::array()},
                           {"train_seconds", nlohmann::json::object()},
                           {"dev_auc", nlohmann::json::object()},
                           {"capacity", nlohmann::json::object()},
                           {"market_residual", nlohmann::json::object()},
                           {"feature_experts", feature_experts(grid_experts(options.base, store), store)},
                           {"fingerprint", fp}};
  for (const auto& v : variants(options, store)) {
    if (previous.contains("variants") && previous["variants"].contains(v.name) &&
        std::filesystem::exists(scores_path(out, v.name))) {
      spdlog::info("ablation: {} (finished earlier)", v.name);
      for (const char* key : {"variants", "train_seconds", "dev_auc", "capacity", "market_residual"})
        if (previous.contains(key) && previous[key].contains(v.name)) result[key][v.name] = previous[key][v.name];
      result["order"].push_back(v.name);
      continue;
    }
    spdlog::info("ablation: {}", v.name);
    const auto start = std::chrono::steady_clock::now();
    VariantScores s;
    if (v.score_only) {
      s = score_only(store, v.config, train, test);
    } else {
      nlohmann::json capacity;
      auto trained = train_variant(v, store, train, dev, options, capacity);
      if (!capacity.is_null()) result["capacity"][v.name] = capacity;
      save_model(trained.model, out / "models" / variant_dir_name(v.name));
      write_model_experts(out / "models" / variant_dir_name(v.name), model_experts(store, trained.model->config));
      const auto set = make_pair_set(store, test, trained.model->config, "test data", true);
      auto pred = predict(trained.model, store, set);
      s = scored(set, std::move(pred.scores), trained.model->config.experts, std::move(pred.active),
                 trained.model->config.costs);
      result["dev_auc"][v.name] = trained.dev_auc;
      if (!trained.model->config.market_residual.empty())
        result["market_residual"][v.name] = trained.model->config.market_residual;
    }
    const auto report = evaluate({s.pairs.scores, s.pairs.labels, s.pairs.markets, s.experts, s.active, s.costs},
                                 options.resamples, options.seed);
    write_scored_pairs(scores_path(out, v.name), s.pairs);
    result["variants"][v.name] = to_json(report);
    result["order"].push_back(v.name);
    result["train_seconds"][v.name] = seconds_since(start);
    // Rewritten after every variant, so an interrupted grid keeps (and a rerun reuses) what it finished.
    write_json_file((out / "ablation.json").string(), result);
  }
  result["comparisons"] = headline_comparisons(
      result, [&](const std::string& v) { return read_scored_pairs(scores_path(out, v)); }, options.resamples,
      options.seed);
  write_json_file((out / "ablation.json").string(), result);
  write_text_file((out / "ablation.md").string(), ablation_markdown(result));
  return result;
}

std::string ablation_markdown(const nlohmann::json& a) {
  const auto& variants = a.at("variants");
  std::vector<std::string> order = a.contains("order") ? a.at("order").get<std::vector<std::string>>()
                                                       : std::vector<std::string>{};
  if (order.empty())
    for (const auto& [name, v] : variants.items()) order.push_back(name);
  std::set<std::string> markets;
  for (const auto& name : order)
    for (const auto& [m, v] : variants.at(name).at("markets").items()) markets.insert(m);
  std::string md = "## AUC (%) overall and per market\n\n| variant | overall | 95% CI |";
  std::string rule = "|---|---:|---:|";
  for (const auto& m : markets) {
    md += " " + m + " |";
    rule += "---:|";
  }
  md += " active experts | cost (ms/pair) |\n" + rule + "---:|---:|\n";
  for (const auto& name : order) {
    const auto& v = variants.at(name);
    md += "| " + name + " | " + pct(v.at("overall").at("auc")) + " | " + pct(v.at("overall").at("ci").at(0)) + "–" +
          pct(v.at("overall").at("ci").at(1)) + " |";
    for (const auto& m : markets)
      md += " " + (v.at("markets").contains(m) ? pct(v.at("markets").at(m).at("auc")) : std::string("–")) + " |";
    char buf[64];
    std::snprintf(buf, sizeof buf, " %.2f | %s |\n", v.at("active_experts").get<double>(),
                  v.contains("mean_cost_s") ? milliseconds(v["mean_cost_s"]).c_str() : "–");
    md += buf;
  }
  auto row = [&](const std::string& label, const std::string& name) {
    if (!variants.contains(name)) return std::string();
    char buf[160];
    std::snprintf(buf, sizeof buf, "| %s | %s | %.2f |\n", label.c_str(), pct(variants.at(name).at("overall").at("auc")).c_str(),
                  variants.at(name).at("active_experts").get<double>());
    return std::string(buf);
  };
  md += "\n## Fusion strategies (hard routing)\n\n| method | AUC (%) | active experts |\n|---|---:|---:|\n";
  md += row("Weighted fusion", "moe:hard:weighted") + row("Concatenation", "moe:hard:concat");
  md += "\n## Routing strategies (concat fusion)\n\n| method | AUC (%) | active experts |\n|---|---:|---:|\n";
  md += row("Rule-based", "moe:rule:concat") + row("Pseudo-label", "moe:pseudo:concat") +
        row("Soft routing", "moe:soft:concat") + row("Hard routing", "moe:hard:concat") +
        row("Full fusion (no routing)", "full:concat");
  if (const auto headline = headline_markdown(a); !headline.empty())
    md += "\n## Headline: the lexical expert, the LLM experts, all experts\n\n" + headline;
  if (a.contains("comparisons") && !a["comparisons"].empty())
    md += "\n## Headline comparisons (test, paired bootstrap)\n\n" + comparisons_markdown(a["comparisons"]);
  if (a.contains("market_residual") && !a["market_residual"].empty())
    md += "\n## Correction kept per market (margin variants, chosen on dev: 0 = the lexical expert's ranking)\n\n" +
          residual_markdown(a["market_residual"], markets);
  if (variants.contains("moe:hard:concat"))
    md += "\n## Expert usage of moe:hard:concat (% of pairs per market)\n\n" +
          usage_markdown(report_from_json(variants.at("moe:hard:concat")));
  return md;
}

}  // namespace relmoe
