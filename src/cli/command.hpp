#pragma once
// Subcommand registry: each src/cli/<name>.cpp registers one subcommand at static-init time,
// so adding a command never touches main.cpp.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

namespace relmoe::cli {

struct Command {
  std::string name;
  std::string description;
  // Adds options to `sub` and returns the action to run when the subcommand is chosen.
  std::function<std::function<int()>(CLI::App& sub)> setup;
};

std::vector<Command>& registry();

struct Register {
  explicit Register(Command c) { registry().push_back(std::move(c)); }
};

}  // namespace relmoe::cli
