#include "base/error.hpp"
#include "cli/command.hpp"
#include "runtime/accelerator.hpp"
#include "runtime/process_setup.hpp"

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <iostream>

namespace relmoe::cli {
std::vector<Command>& registry() {
  static std::vector<Command> commands;
  return commands;
}

namespace {

CLI::App* find_subcommand(CLI::App& app, const std::string& name) {
  try {
    return app.get_subcommand(name);
  } catch (const CLI::Error&) {
    return nullptr;
  }
}

bool is_number(const std::string& word) {
  char* end = nullptr;
  std::strtod(word.c_str(), &end);
  return end != word.c_str() && *end == '\0';
}

// CLI11 reports a missing required option before an unexpected word, so `relmoe score --frob`
// would only say "--model is required". After a failed parse the word at fault is looked for
// here: an unknown subcommand, or an option the chosen subcommand does not have.
std::optional<std::string> unknown_word(CLI::App& app, int argc, char** argv) {
  CLI::App* command = &app;
  std::string path = "relmoe";
  int i = 1;
  for (; i < argc && argv[i][0] != '-'; ++i) {
    CLI::App* sub = find_subcommand(*command, argv[i]);
    if (!sub) {
      if (command->get_subcommands({}).empty()) break;  // a positional value
      return path + ": unknown subcommand '" + argv[i] + "' (see " + path + " --help)";
    }
    command = sub;
    path += std::string(" ") + argv[i];
  }
  for (; i < argc; ++i) {
    const std::string word = argv[i];
    if (word == "--") break;
    if (word.size() < 2 || word[0] != '-' || is_number(word)) continue;
    const std::string name = word.substr(0, word.find('='));
    if (!command->get_option_no_throw(name) && !app.get_option_no_throw(name))
      return path + ": unknown option '" + name + "' (see " + path + " --help)";
  }
  return std::nullopt;
}

}  // namespace
}  // namespace relmoe::cli

int main(int argc, char** argv) {
  relmoe::configure_process(argc, argv);
  using relmoe::cli::registry;
  // stdout carries results (`relmoe hidden`, `tokenize`); every log line goes to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("relmoe"));
  spdlog::set_pattern("[%H:%M:%S] %^%l%$ %v");
  CLI::App app{"relmoe: multilingual search relevance with a mixture of frozen LLM experts"};
  app.require_subcommand(1);
  app.set_version_flag("--version", [] {
    const auto info = relmoe::build_info();
    return "relmoe 0.1.0 (libtorch " + info.torch_version + ", " +
           (info.cuda_built ? "CUDA " + info.cuda_version : std::string("no CUDA")) + "; devices: " +
           fmt::format("{}", fmt::join(info.devices, ", ")) + ")";
  });
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
    if (e.get_exit_code() != 0)
      if (auto word = relmoe::cli::unknown_word(app, argc, argv)) {
        std::cerr << *word << "\n";
        return e.get_exit_code();
      }
    return app.exit(e);
  }
  try {
    return action();
  } catch (const std::exception& e) {
    std::cerr << "relmoe: error: " << relmoe::one_line(e.what()) << "\n";
    return 1;
  }
}
