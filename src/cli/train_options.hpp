#pragma once
// Options shared by `relmoe train` and `relmoe ablate`: model shape and training settings.
#include "moe/config.hpp"
#include "moe/trainer.hpp"

#include <CLI/CLI.hpp>

#include <string>

namespace relmoe::cli {

struct ModelFlags {
  std::string routing = "hard", fusion = "concat", classifier = "mlp", experts, rule;
  MoeConfig config;
  TrainOptions train;
  int threads = 2;

  void add(CLI::App& app, bool with_strategy);
  // The MoeConfig with parsed enums, the expert list and the rule table.
  MoeConfig resolve() const;
};

}  // namespace relmoe::cli
