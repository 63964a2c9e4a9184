// relmoe ablate: the paper's Table 1 / Table 2 grid into one JSON + Markdown.
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/train_options.hpp"

#include "io/feature_store.hpp"
#include "io/pair_reader.hpp"
#include "flow/ablation.hpp"
#include "runtime/compute.hpp"

#include <iostream>

namespace relmoe::cli {
namespace {

struct AblateArgs {
  std::string features, data, dev, test, out;
  int resamples = 1000;
  bool resume = false;
  PairInput input;
  ModelFlags flags;
  GridFlags grid;
};

int run(const AblateArgs& a) {
  set_threads(a.flags.threads);
  const auto store = FeatureStore::open(a.features);
  auto o = a.grid.resolve(a.flags, a.resamples);
  o.resume = a.resume;
  const auto result = run_ablation(store, a.input.read(a.data), a.input.read(a.dev), a.input.read(a.test), o, a.out);
  std::cout << ablation_markdown(result);
  return 0;
}

const Register command{{"ablate", "Run single experts, fusions, full fusion and MoE routing/fusion ablations",
                    [](CLI::App& app) {
                      auto a = std::make_shared<AblateArgs>();
                      app.add_option("--features", a->features, "feature store directory")->required();
                      app.add_option("--data", a->data, "training pairs (.tsv, .csv, .jsonl)")->required();
                      app.add_option("--dev", a->dev, "dev pairs")->required();
                      app.add_option("--test", a->test, "test pairs")->required();
                      a->input.add(app);
                      app.add_option("--out", a->out, "output directory (ablation.json, ablation.md, models/)")->required();
                      app.add_option("--resamples", a->resamples, "bootstrap resamples")->capture_default_str();
                      app.add_flag("--resume", a->resume,
                                   "reuse the variants an earlier run into --out finished with the same settings and data");
                      a->flags.add(app, false);
                      a->grid.add(app);
                      return [a] { return run(*a); };
                    }}};

}  // namespace
}  // namespace relmoe::cli
