#include "moe/trainer.hpp"

#include "base/error.hpp"
#include "base/progress.hpp"
#include "eval/auc.hpp"
#include "moe/adam.hpp"
#include "moe/dataset.hpp"
#include "moe/model_experts.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <array>
#include <map>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>
#include <set>

namespace relmoe {

namespace {

using State = std::vector<std::pair<std::string, torch::Tensor>>;

State snapshot(MoeModel& model) {
  State s;
  for (const auto& p : model->named_parameters()) s.emplace_back(p.key(), p.value().detach().clone());
  for (const auto& b : model->named_buffers()) s.emplace_back(b.key(), b.value().detach().clone());
  return s;
}

void restore(MoeModel& model, const State& s) {
  torch::NoGradGuard no_grad;
  auto params = model->named_parameters();
  auto buffers = model->named_buffers();
  for (const auto& [name, value] : s) {
    if (auto* p = params.find(name)) p->copy_(value);
    else if (auto* b = buffers.find(name)) b->copy_(value);
  }
}

// Fills experts, widths and the market vocabulary, then validates.
MoeConfig complete_config(MoeConfig c, const FeatureStore& store, const std::vector<Pair>& train) {
  if (c.experts.empty())
    for (const auto& e : store.experts()) c.experts.push_back(e.name);
  c.widths.clear();
  c.costs.clear();
  for (const auto& e : c.experts) {
    const auto& column = store.experts()[store.expert_index(e)];
    c.widths.push_back(column.width);
    c.costs.push_back(column.cost);
  }
  for (const auto& e : c.margin)
    if (std::find(c.experts.begin(), c.experts.end(), e) != c.experts.end() && !is_feature_expert(store, e))
      fail("--margin '" + e + "'", "is not a feature expert (only those put their own logit first in their vector)");
  c.resolve_widths();
  std::set<std::string> markets;
  for (const auto& p : train) markets.insert(p.market);
  c.markets.assign(markets.begin(), markets.end());
  return c;
}

// Mean and std of every hidden dimension over an evenly spaced sample of training rows, read in
// f32 chunks; sums of values shifted by the first chunk's mean, accumulated in f64, keep the
// variance exact enough without converting the whole sample to f64.
void fit_standardisation(MoeModel& model, const FeatureStore& store, const PairSet& set, std::int64_t max_rows) {
  constexpr std::int64_t kChunk = 2048;
  const auto columns = store_columns(store, model->config);
  const auto n = std::min<std::int64_t>(max_rows, set.size());
  auto rows = torch::empty({n}, torch::kLong);
  auto* r = rows.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) r[i] = set.rows[static_cast<std::size_t>(i * set.size() / n)];
  for (std::size_t e = 0; e < columns.size(); ++e) {
    torch::Tensor shift, sum, sum_sq;
    for (std::int64_t start = 0; start < n; start += kChunk) {
      auto x = store.hidden(columns[e], rows.narrow(0, start, std::min(kChunk, n - start)));
      if (!shift.defined()) shift = x.mean(0);
      x.sub_(shift);
      const auto s = x.sum(0).to(torch::kFloat64), sq = x.square().sum(0).to(torch::kFloat64);
      sum = sum.defined() ? sum + s : s;
      sum_sq = sum_sq.defined() ? sum_sq + sq : sq;
    }
    const auto mean = sum / static_cast<double>(n);
    const auto var = (sum_sq / static_cast<double>(n) - mean.square()).clamp_min(0.0);
    model->set_standardisation(static_cast<int>(e), (mean + shift.to(torch::kFloat64)).to(torch::kFloat32),
                               var.sqrt().to(torch::kFloat32));
  }
}

std::vector<std::vector<std::int64_t>> shuffled_batches(std::int64_t n, std::int64_t batch, std::mt19937_64& rng) {
  std::vector<std::int64_t> order(static_cast<std::size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::vector<std::int64_t>> batches;
  for (std::int64_t s = 0; s < n; s += batch)
    batches.emplace_back(order.begin() + s, order.begin() + std::min(n, s + batch));
  return batches;
}

torch::Tensor labels_of(const PairSet& set, const std::vector<std::int64_t>& positions) {
  auto y = torch::empty({static_cast<std::int64_t>(positions.size())});
  auto* out = y.data_ptr<float>();
  for (std::size_t i = 0; i < positions.size(); ++i) out[i] = set.labels[positions[i]];
  return y;
}

torch::Tensor weights_of(const PairSet& set, const std::vector<float>& per_market, const std::vector<std::int64_t>& positions) {
  auto w = torch::empty({static_cast<std::int64_t>(positions.size())});
  auto* out = w.data_ptr<float>();
  for (std::size_t i = 0; i < positions.size(); ++i) out[i] = per_market[static_cast<std::size_t>(set.markets[positions[i]])];
  return w;
}

double dev_auc(MoeModel& model, const FeatureStore& store, const PairSet& dev) {
  return try_roc_auc(predict(model, store, dev).scores, dev.labels).value_or(NAN);
}

// AUC of `scores` per market of `set`, for markets with both labels.
std::map<std::string, double> market_aucs(const std::vector<double>& scores, const PairSet& set) {
  std::map<std::string, std::pair<std::vector<double>, std::vector<float>>> by_market;
  for (std::size_t i = 0; i < scores.size(); ++i) {
    by_market[set.market_names[i]].first.push_back(scores[i]);
    by_market[set.market_names[i]].second.push_back(set.labels[i]);
  }
  std::map<std::string, double> out;
  for (const auto& [market, sl] : by_market)
    if (const auto auc = try_roc_auc(sl.first, sl.second)) out[market] = *auc;
  return out;
}

// Per market, the correction factor of {1, 1/2, 0} with the best dev AUC (the smaller on ties:
// fewer experts run); markets whose dev pairs are all of one label keep 1.
std::map<std::string, double> choose_market_residual(MoeModel& model, const FeatureStore& store, const PairSet& dev) {
  std::map<std::string, std::pair<double, double>> best;  // market -> (dev AUC, factor)
  for (const double factor : {1.0, 0.5, 0.0}) {
    std::map<std::string, double> all;
    for (const auto& m : model->config.markets) all[m] = factor;
    model->set_market_residual(all);
    for (const auto& [market, auc] : market_aucs(predict(model, store, dev).scores, dev))
      if (!best.count(market) || auc >= best[market].first) best[market] = {auc, factor};
  }
  std::map<std::string, double> chosen;
  for (const auto& [market, b] : best) chosen[market] = b.second;
  return chosen;
}

std::string status_line(int epoch, double loss, double auc) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "epoch %d loss %.4f dev_auc %.4f", epoch, loss, auc);
  return buf;
}

// Training options of an expert's probe (probe_config): no margin, so no per-market factor.
TrainOptions probe_options(const TrainOptions& options, const std::string& expert) {
  TrainOptions o = options;
  o.label = "probe:" + expert;
  o.market_residual = false;
  return o;
}

// Pseudo-label routing, stage 1: the expert whose probe has the lowest loss on each pair.
std::vector<std::int64_t> pseudo_labels(const MoeConfig& config, const FeatureStore& store,
                                        const std::vector<Pair>& train, const std::vector<Pair>& dev,
                                        const PairSet& set, const TrainOptions& options) {
  std::vector<double> best_loss(static_cast<std::size_t>(set.size()), INFINITY);
  std::vector<std::int64_t> best(static_cast<std::size_t>(set.size()), 0);
  for (std::int64_t e = 0; e < config.num_experts(); ++e) {
    if (config.is_shared(e)) continue;  // runs for every pair; the router chooses among the others
    auto probe = train_model(probe_config(config, config.experts[e]), store, train, dev,
                             probe_options(options, config.experts[e]))
                     .model;
    const auto scores = predict(probe, store, make_pair_set(store, train, probe->config, "train", true)).scores;
    for (std::size_t i = 0; i < scores.size(); ++i) {
      const double y = set.labels[i], s = scores[i];
      const double loss = std::max(s, 0.0) - s * y + std::log1p(std::exp(-std::abs(s)));  // BCE with logits
      if (loss < best_loss[i]) best_loss[i] = loss, best[i] = e;
    }
  }
  return best;
}

// Pseudo-label routing, stage 2: fit the router to the labels as a classifier, then freeze it.
void fit_router(MoeModel& model, const PairSet& set, const std::vector<std::int64_t>& targets,
                const TrainOptions& options) {
  FusedAdam opt(model->router->parameters(), options.router_lr);
  std::mt19937_64 rng(options.seed ^ 0x5eedull);
  std::optional<Progress> bar;
  if (options.progress)
    bar.emplace(options.label + " router",
                options.router_epochs * static_cast<std::size_t>((set.size() + options.batch - 1) / options.batch));
  for (int epoch = 0; epoch < options.router_epochs; ++epoch) {
    for (const auto& positions : shuffled_batches(set.size(), options.batch, rng)) {
      auto y = torch::empty({static_cast<std::int64_t>(positions.size())}, torch::kLong);
      auto* out = y.data_ptr<std::int64_t>();
      for (std::size_t i = 0; i < positions.size(); ++i) out[i] = targets[positions[i]];
      auto loss = torch::nn::functional::cross_entropy(model->router_logits(router_batch(set, positions)), y);
      opt.zero_grad();
      loss.backward();
      opt.step();
      if (bar) bar->advance();
    }
  }
  for (auto& p : model->router->parameters()) p.set_requires_grad(false);
}

}  // namespace

std::vector<float> balanced_market_weights(const std::vector<std::int64_t>& markets) {
  if (markets.empty()) return {};
  std::map<std::int64_t, double> count;
  for (const auto m : markets) ++count[m];
  std::vector<float> w(static_cast<std::size_t>(count.rbegin()->first + 1), 0.f);
  for (const auto& [m, n] : count)
    w[static_cast<std::size_t>(m)] =
        static_cast<float>(static_cast<double>(markets.size()) / (static_cast<double>(count.size()) * n));
  return w;
}

MoeConfig probe_config(const MoeConfig& base, const std::string& expert) {
  MoeConfig c = base;
  const auto at = std::find(base.experts.begin(), base.experts.end(), expert) - base.experts.begin();
  c.widths.clear();
  if (static_cast<std::size_t>(at) < base.widths.size()) c.widths = {base.widths[static_cast<std::size_t>(at)]};
  c.experts = {expert};
  c.routing = Routing::full;
  c.fusion = Fusion::concat;
  c.classifier = Classifier::linear;
  c.rule.clear();
  c.shared.clear();
  c.margin.clear();
  c.market_residual.clear();
  return c;
}

std::map<std::string, std::string> best_expert_per_market(const MoeConfig& config, const FeatureStore& store,
                                                          const std::vector<Pair>& train,
                                                          const std::vector<Pair>& dev, const TrainOptions& options) {
  const MoeConfig full = complete_config(config, store, train);
  std::map<std::string, std::pair<double, std::string>> best;  // market -> (auc, expert)
  for (const auto& expert : full.experts) {
    const int column = store.expert_index(expert);
    std::vector<double> scores;
    PairSet set;
    if (store.experts()[column].has_score) {
      set = make_pair_set(store, dev, probe_config(full, expert), "dev", true);
      const auto s = store.scores(column, torch::tensor(set.rows)).to(torch::kFloat64).contiguous();
      scores.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
    } else {
      auto probe = train_model(probe_config(full, expert), store, train, dev, probe_options(options, expert)).model;
      set = make_pair_set(store, dev, probe->config, "dev", true);
      scores = predict(probe, store, set).scores;
    }
    for (const auto& [market, auc] : market_aucs(scores, set))
      if (!best.count(market) || auc > best[market].first) best[market] = {auc, expert};
  }
  // Markets without dev pairs get the expert that wins most markets.
  std::map<std::string, int> wins;
  for (const auto& [m, b] : best) ++wins[b.second];
  const std::string fallback =
      wins.empty() ? full.experts[0]
                   : std::max_element(wins.begin(), wins.end(), [](auto& a, auto& b) { return a.second < b.second; })->first;
  std::map<std::string, std::string> rule;
  for (const auto& m : full.markets) rule[m] = best.count(m) ? best[m].second : fallback;
  return rule;
}

// Labels of one class teach nothing: refused. Per market, few pairs or a very rare class make
// that market's results noise: warned, since a small market may still be worth keeping.
void check_training_labels(const std::vector<Pair>& train) {
  constexpr std::int64_t kSmall = 50;
  constexpr double kRare = 0.05;
  std::map<std::string, std::array<std::int64_t, 2>> counts;  // market -> {irrelevant, relevant}
  std::array<std::int64_t, 2> all{0, 0};
  for (const auto& p : train) {
    if (!p.label) continue;  // make_pair_set names the unlabelled pair
    const int c = *p.label > 0.5f ? 1 : 0;
    ++counts[p.market][c];
    ++all[c];
  }
  if (all[0] == 0 || all[1] == 0)
    fail("training data", "every labelled pair is " + std::string(all[1] == 0 ? "irrelevant (0)" : "relevant (1)") +
                              ": a classifier needs both classes");
  for (const auto& [market, c] : counts) {
    const auto n = c[0] + c[1];
    const double minority = static_cast<double>(std::min(c[0], c[1])) / static_cast<double>(n);
    static std::set<std::string> warned;  // an ablation trains many variants on the same data
    if ((n < kSmall || minority < kRare) && warned.insert(market + "/" + std::to_string(n)).second)
      spdlog::warn("training data: market '{}' has {} pairs ({} relevant, {} irrelevant): too few or too unbalanced "
                   "to learn or judge it reliably",
                   market, n, c[1], c[0]);
  }
}

TrainResult train_model(MoeConfig config, const FeatureStore& store, const std::vector<Pair>& train,
                        const std::vector<Pair>& dev, const TrainOptions& options) {
  if (train.empty()) fail("training data", "holds no pairs");
  if (dev.empty()) fail("dev data", "holds no pairs (early stopping needs a labelled dev set)");
  check_training_labels(train);
  if (options.batch < 1 || options.epochs < 1 || !(options.lr > 0))
    fail("training options", "batch, epochs and lr must be positive");
  config = complete_config(std::move(config), store, train);
  if (options.lambda_cost > 0 && config.routing == Routing::hard && !config.has_costs())
    fail("--lambda-cost", "needs every expert's measured cost per pair; the feature store has none for some expert "
                          "(rerun `relmoe embed` on it to measure them)");
  if (options.market_residual && config.margin.empty())
    fail("--market-residual", "chooses how much of the correction to a margin expert each market keeps; "
                              "name one with --margin");
  if (config.routing == Routing::rule && config.rule.empty())
    config.rule = best_expert_per_market(config, store, train, dev, options);
  config.validate();
  torch::manual_seed(options.seed);
  MoeModel model(config);
  const auto train_set = make_pair_set(store, train, config, "training data", true);
  const auto dev_set = make_pair_set(store, dev, config, "dev data", true);
  if (!try_roc_auc(std::vector<double>(dev_set.labels.size(), 0.0), dev_set.labels))
    fail("dev data", "needs both relevant and irrelevant pairs for early stopping on AUC");
  fit_standardisation(model, store, train_set, options.stat_rows);
  if (config.routing == Routing::pseudo)
    fit_router(model, train_set, pseudo_labels(config, store, train, dev, train_set, options), options);

  const auto columns = store_columns(store, config);
  std::vector<torch::Tensor> trainable;
  for (auto& p : model->parameters())
    if (p.requires_grad()) trainable.push_back(p);
  FusedAdam opt(trainable, options.lr, options.weight_decay);
  const auto balance = options.balance_markets ? balanced_market_weights(train_set.markets) : std::vector<float>{};
  std::mt19937_64 rng(options.seed);
  const auto steps_per_epoch = static_cast<std::size_t>((train_set.size() + options.batch - 1) / options.batch);
  std::optional<Progress> bar;
  if (options.progress) bar.emplace(options.label, steps_per_epoch * static_cast<std::size_t>(options.epochs));
  TrainResult result;
  result.dev_auc = -INFINITY;
  State best;
  int stale = 0;
  for (int epoch = 1; epoch <= options.epochs && stale < options.patience; ++epoch) {
    model->train();
    double loss_sum = 0;
    std::int64_t steps = 0;
    for (const auto& positions : shuffled_batches(train_set.size(), options.batch, rng)) {
      const auto out = model->forward(router_batch(train_set, positions),
                                      store_fetch(store, columns, train_set, positions), true);
      auto loss = balance.empty()
                      ? torch::binary_cross_entropy_with_logits(out.logits, labels_of(train_set, positions))
                      : torch::binary_cross_entropy_with_logits(out.logits, labels_of(train_set, positions),
                                                                weights_of(train_set, balance, positions));
      if (config.routing == Routing::hard)
        loss = loss + options.lambda * load_balancing_loss(routed_columns(config, out.gates.probs),
                                                            routed_columns(config, out.gates.active));
      if (config.routing == Routing::soft) loss = loss + options.entropy * routing_entropy(out.gates.probs);
      if (config.routing == Routing::hard && options.lambda_cost > 0) loss = loss + options.lambda_cost * cost_loss(out.gates.probs, config.costs);
      opt.zero_grad();
      loss.backward();
      opt.step();
      loss_sum += loss.item<double>();
      ++steps;
      if (bar) {
        bar->advance();
        if (steps % 50 == 0) bar->status(status_line(epoch, loss_sum / steps, result.history.empty() ? NAN : result.history.back().dev_auc));
      }
    }
    const double auc = dev_auc(model, store, dev_set);
    result.history.push_back({epoch, loss_sum / std::max<std::int64_t>(steps, 1), auc});
    if (bar) bar->status(status_line(epoch, result.history.back().loss, auc));
    if (auc > result.dev_auc) {
      result.dev_auc = auc;
      result.best_epoch = epoch;
      best = snapshot(model);
      stale = 0;
    } else {
      ++stale;
    }
  }
  if (bar) bar->finish();
  if (!best.empty()) restore(model, best);
  model->eval();
  if (options.market_residual) {
    model->set_market_residual(choose_market_residual(model, store, dev_set));
    result.dev_auc = dev_auc(model, store, dev_set);
  }
  if (options.progress) spdlog::info("{}: best dev AUC {:.4f} at epoch {}", options.label, result.dev_auc, result.best_epoch);
  result.model = model;
  return result;
}

}  // namespace relmoe
