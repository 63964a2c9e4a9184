// relmoe ablate: the paper's Table 1 / Table 2 grid into one JSON + Markdown.
#include "cli/command.hpp"
#include "cli/train_options.hpp"

#include "io/feature_store.hpp"
#include "io/pairs.hpp"
#include "moe/ablation.hpp"
#include "runtime/compute.hpp"

#include <iostream>

namespace relmoe::cli {
namespace {

struct AblateArgs {
  std::string features, data, dev, test, out;
  int resamples = 1000;
  ModelFlags flags;
};

int run(const AblateArgs& a) {
  set_threads(a.flags.threads);
  const auto store = FeatureStore::open(a.features);
  AblationOptions o;
  o.base = a.flags.resolve();
  o.train = a.flags.train;
  o.resamples = a.resamples;
  o.seed = a.flags.train.seed;
  const auto result = run_ablation(store, read_pairs(a.data), read_pairs(a.dev), read_pairs(a.test), o, a.out);
  std::cout << ablation_markdown(result);
  return 0;
}

const Register reg{{"ablate", "Run single experts, fusions, full fusion and MoE routing/fusion ablations",
                    [](CLI::App& app) {
                      auto a = std::make_shared<AblateArgs>();
                      app.add_option("--features", a->features, "feature store directory")->required();
                      app.add_option("--data", a->data, "training pairs TSV")->required();
                      app.add_option("--dev", a->dev, "dev pairs TSV")->required();
                      app.add_option("--test", a->test, "test pairs TSV")->required();
                      app.add_option("--out", a->out, "output directory (ablation.json, ablation.md, models/)")->required();
                      app.add_option("--resamples", a->resamples, "bootstrap resamples")->capture_default_str();
                      a->flags.add(app, false);
                      return [a] { return run(*a); };
                    }}};

}  // namespace
}  // namespace relmoe::cli
