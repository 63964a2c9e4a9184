#include "cli/train_options.hpp"

#include "base/error.hpp"
#include "cli/thread_option.hpp"
#include "flow/run_flow.hpp"

#include <sstream>

namespace relmoe::cli {

namespace {
std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, sep))
    if (!part.empty()) out.push_back(part);
  return out;
}
}  // namespace

void ModelFlags::add(CLI::App& app, bool with_strategy) {
  if (with_strategy) {
    app.add_option("--routing", routing, "hard | soft | pseudo | rule | full")->capture_default_str();
    app.add_option("--fusion", fusion, "concat | weighted")->capture_default_str();
    app.add_option("--rule", rule, "rule routing table 'market=expert,...' (default: best single expert per market on dev)");
    app.add_option("--threshold", config.threshold, "soft routing: experts with probability >= threshold run")
        ->capture_default_str();
    app.add_option("--budget", config.budget,
                   "hard routing at inference: mean expert seconds per pair a batch may spend (0: none)")
        ->capture_default_str();
  }
  app.add_option("--classifier", classifier, "linear | mlp")->capture_default_str();
  app.add_option("--experts", experts, "comma-separated store experts to use (default: all)");
  app.add_option("--shared", shared,
                 "comma-separated experts that run for every pair, outside routing (e.g. the lexical expert)");
  app.add_option("--margin", margin,
                 "comma-separated feature experts whose own logit is added to the output (the classifier "
                 "learns a correction to their ranking)");
  app.add_flag("--market-residual", train.market_residual,
               "with --margin: choose per market on dev how much of the classifier's correction to keep "
               "(0, 1/2, 1; at 0 the market runs only the shared and margin experts)");
  app.add_option("--k", config.k, "hard routing: experts per pair (at most, with --min-prob)")->capture_default_str();
  app.add_option("--min-prob", config.min_prob,
                 "hard routing: experts after the first run only with router probability >= this (0: always k)")
      ->capture_default_str();
  app.add_option("--dim", config.dim, "projection width d per expert (0: min(256, widest expert))")->capture_default_str();
  app.add_option("--hidden", config.hidden, "MLP classifier hidden width (0: = d)")->capture_default_str();
  app.add_option("--dropout", config.dropout, "MLP classifier dropout")->capture_default_str();
  app.add_option("--weight-decay", train.weight_decay, "decoupled (AdamW) weight decay")->capture_default_str();
  app.add_flag("--market-classifier", config.market_classifier,
               "the classifier also sees a market embedding (features weighed per market)");
  app.add_flag("--balance-markets", train.balance_markets, "weigh training pairs so every market counts alike in the loss");
  app.add_option("--lr", train.lr, "Adam learning rate")->capture_default_str();
  app.add_option("--batch", train.batch, "pairs per batch")->capture_default_str();
  app.add_option("--lambda", train.lambda, "load-balancing loss weight (hard routing)")->capture_default_str();
  app.add_option("--lambda-cost", train.lambda_cost,
                 "expert-cost loss weight (hard routing; needs the store's measured costs)")->capture_default_str();
  app.add_option("--entropy", train.entropy, "entropy-minimisation weight (soft routing)")->capture_default_str();
  app.add_option("--epochs", train.epochs, "maximum epochs")->capture_default_str();
  app.add_option("--patience", train.patience, "epochs without dev AUC gain before stopping")->capture_default_str();
  app.add_option("--router-lr", train.router_lr, "pseudo-label router learning rate")->capture_default_str();
  app.add_option("--seed", train.seed, "random seed (training is deterministic given it)")->capture_default_str();
  add_threads_option(app, threads);
  app.add_flag("!--no-progress", train.progress, "no progress bar");
}

MoeConfig ModelFlags::resolve() const {
  MoeConfig c = config;
  c.routing = parse_routing(routing);
  c.fusion = parse_fusion(fusion);
  c.classifier = parse_classifier(classifier);
  c.experts = split(experts, ',');
  c.shared = split(shared, ',');
  c.margin = split(margin, ',');
  for (const auto& entry : split(rule, ',')) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      fail("--rule", "'" + entry + "' is not market=expert");
    c.rule[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return c;
}

GridFlags::GridFlags() : grid(default_flow_ablation()) {}

void GridFlags::add(CLI::App& app) {
  app.add_option("--capacity-grid", grid.capacity_grid,
                 "widths tried for d = hidden per fusing variant, chosen on dev (off when --dim/--hidden are given)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--cost-sweep", grid.cost_sweep, "lambda_cost values of the cost-aware routing variants (moe:cost:*)")
      ->delimiter(',')
      ->capture_default_str();
  app.add_option("--sweep-min-prob", grid.sweep_min_prob, "min_prob of the cost-aware routing variants")
      ->capture_default_str();
  app.add_flag("!--no-margin", grid.feature_margin,
               "fuse feature experts (the lexical expert) like any expert instead of as a margin with a "
               "per-market correction and, when routing, outside routing");
}

AblationOptions GridFlags::resolve(const ModelFlags& flags, int resamples) const {
  AblationOptions o = grid;
  if (flags.config.dim > 0 || flags.config.hidden > 0) o.capacity_grid.clear();
  for (const auto w : o.capacity_grid)
    if (w < 1) fail("--capacity-grid", "widths must be positive, got " + std::to_string(w));
  for (const auto l : o.cost_sweep)
    if (!(l >= 0)) fail("--cost-sweep", "lambda_cost values must be non-negative");
  o.base = flags.resolve();
  o.train = flags.train;
  o.resamples = resamples;
  o.seed = flags.train.seed;
  return o;
}

}  // namespace relmoe::cli
