#pragma once
// Test helpers: where ../shared lives, and running the relmoe binary.
#include "test_paths.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <string>

namespace relmoe::test {

// ../shared beside the checkout, or $RELMOE_SHARED.
inline std::filesystem::path shared_dir() {
  if (const char* env = std::getenv("RELMOE_SHARED")) return env;
  return RELMOE_SHARED_DIR;
}

inline std::filesystem::path binary() { return RELMOE_BINARY; }

}  // namespace relmoe::test

// Skips the current test with a clear message when a file under ../shared is missing.
#define RELMOE_REQUIRE_SHARED(relative)                                                   \
  do {                                                                                    \
    if (!std::filesystem::exists(relmoe::test::shared_dir() / (relative)))                \
      GTEST_SKIP() << "../shared not found (" << (relmoe::test::shared_dir() / (relative)) \
                   << "); set RELMOE_SHARED to the shared test material";                 \
  } while (0)
