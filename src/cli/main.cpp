#include "cli/command.hpp"
#include "base/error.hpp"
#include "runtime/process_setup.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <iostream>

namespace relmoe::cli {
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}
}  // namespace relmoe::cli

int main(int argc, char** argv) {
  relmoe::configure_process(argc, argv);
  using relmoe::cli::registry;
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  CLI::App app{"relmoe: multilingual search relevance with a mixture of frozen LLM experts"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "relmoe 0.1.0");
  auto& commands = registry();
  std::sort(commands.begin(), commands.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::function<int()> action;
  for (auto& command : commands) {
    CLI::App* sub = app.add_subcommand(command.name, command.description);
    auto run = command.setup(*sub);
    sub->callback([&action, run] { action = run; });
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  try {
    return action();
  } catch (const std::exception& e) {
    std::cerr << "relmoe: error: " << relmoe::one_line(e.what()) << "\n";
    return 1;
  }
}
