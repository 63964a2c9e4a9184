#pragma once
// Options shared by `relmoe train` and `relmoe ablate`: model shape and training settings.
#include "flow/ablation.hpp"
#include "moe/config.hpp"
#include "moe/trainer.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace relmoe::cli {

struct ModelFlags {
  std::string routing = "hard", fusion = "concat", classifier = "mlp", experts, rule, shared, margin;
  MoeConfig config;
  TrainOptions train;
  int threads = 2;

  void add(CLI::App& app, bool with_strategy);
  // The MoeConfig with parsed enums, the expert list and the rule table.
  MoeConfig resolve() const;
};

// The variant grid of `relmoe ablate` and `relmoe experiment`: the flows' defaults
// (flow/run_flow.hpp) with --capacity-grid, --cost-sweep and --sweep-min-prob.
struct GridFlags {
  AblationOptions grid;

  GridFlags();
  void add(CLI::App& app);
  // The ablation options for `flags`: their model and training settings, seed and `resamples`;
  // widths given on the command line (--dim/--hidden) turn the capacity grid off.
  AblationOptions resolve(const ModelFlags& flags, int resamples) const;
};

}  // namespace relmoe::cli
