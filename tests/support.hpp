#pragma once
// Test helpers: where ../shared lives, and running the relmoe binary.
#include "test_paths.hpp"

#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <sys/wait.h>
#include <unistd.h>

namespace relmoe::test {

// ../shared beside the checkout, or $RELMOE_SHARED.
inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("RELMOE_SHARED")) return env;
  return test_paths::shared_dir();
}

inline std::filesystem::path binary() { return test_paths::binary(); }

struct CommandResult {
  int status;          // exit status; -1 when killed by a signal
  std::string output;  // stdout and stderr together
};

// Runs a shell command line, capturing its output.
inline CommandResult run_command(const std::string& command) {
  CommandResult r{0, ""};
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  std::array<char, 4096> buf{};
  while (fgets(buf.data(), buf.size(), pipe)) r.output += buf.data();
  const int status = pclose(pipe);
  r.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

// A temp directory of this test process's own: ctest -j runs tests as parallel processes.
// Every test writes under it, so no two tests share a path; it is removed when the process exits.
inline std::filesystem::path scratch_dir() {
  struct Scratch {
    std::filesystem::path dir =
        std::filesystem::temp_directory_path() / ("relmoe-test-" + std::to_string(::getpid()));
    ~Scratch() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  };
  static const Scratch scratch;
  std::filesystem::create_directories(scratch.dir);
  return scratch.dir;
}

}  // namespace relmoe::test

// Skips the current test with a clear message when a file under ../shared is missing.
#define RELMOE_REQUIRE_SHARED(relative)                                                   \
  do {                                                                                    \
    if (!std::filesystem::exists(relmoe::test::shared_dir() / (relative)))                \
      GTEST_SKIP() << "../shared not found (" << (relmoe::test::shared_dir() / (relative)) \
                   << "); set RELMOE_SHARED to the shared test material";                 \
  } while (0)
