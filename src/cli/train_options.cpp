#include "cli/train_options.hpp"

#include "base/error.hpp"

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
  }
  app.add_option("--classifier", classifier, "linear | mlp")->capture_default_str();
  app.add_option("--experts", experts, "comma-separated store experts to use (default: all)");
  app.add_option("--k", config.k, "hard routing: experts per pair")->capture_default_str();
  app.add_option("--dim", config.dim, "projection width d per expert")->capture_default_str();
  app.add_option("--hidden", config.hidden, "MLP classifier hidden width")->capture_default_str();
  app.add_option("--lr", train.lr, "Adam learning rate")->capture_default_str();
  app.add_option("--batch", train.batch, "pairs per batch")->capture_default_str();
  app.add_option("--lambda", train.lambda, "load-balancing loss weight (hard routing)")->capture_default_str();
  app.add_option("--entropy", train.entropy, "entropy-minimisation weight (soft routing)")->capture_default_str();
  app.add_option("--epochs", train.epochs, "maximum epochs")->capture_default_str();
  app.add_option("--patience", train.patience, "epochs without dev AUC gain before stopping")->capture_default_str();
  app.add_option("--router-lr", train.router_lr, "pseudo-label router learning rate")->capture_default_str();
  app.add_option("--seed", train.seed, "random seed (training is deterministic given it)")->capture_default_str();
  app.add_option("--threads", threads, "CPU threads (0 = all cores)")->capture_default_str();
  app.add_flag("!--no-progress", train.progress, "no progress bar");
}

MoeConfig ModelFlags::resolve() const {
  MoeConfig c = config;
  c.routing = parse_routing(routing);
  c.fusion = parse_fusion(fusion);
  c.classifier = parse_classifier(classifier);
  c.experts = split(experts, ',');
  for (const auto& entry : split(rule, ',')) {
    const auto eq = entry.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == entry.size())
      fail("--rule", "'" + entry + "' is not market=expert");
    c.rule[entry.substr(0, eq)] = entry.substr(eq + 1);
  }
  return c;
}

}  // namespace relmoe::cli
