#pragma once
// --threads, registered the same way by every command: CPU threads for libtorch and OpenMP,
// 0 for all cores, never negative (runtime/compute.hpp `set_threads` applies it).
#include <CLI/CLI.hpp>

#include <string>

namespace relmoe::cli {

inline CLI::Option* add_threads_option(CLI::App& app, int& threads,
                                       const std::string& what = "CPU threads") {
  return app.add_option("--threads", threads, what + " (0 = all cores)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

}  // namespace relmoe::cli
