// Options every command shares, checked on the binary itself.
#include "support.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

// A negative --threads is refused by every command that takes it, naming the option, before the
// command does any work (it used to mean "all cores" in some commands and an error in none).
TEST(CliOptions, EveryCommandRefusesNegativeThreadsNamingTheOption) {
  const std::vector<std::string> commands = {
      "ablate", "distill-data", "embed", "eval", "experiment", "expert train", "hidden", "quickstart",
      "report", "score", "serve", "student train", "student index", "student eval", "train"};
  for (const auto& command : commands) {
    const auto run = relmoe::test::run_command(relmoe::test::binary().string() + " " + command + " --threads -1");
    EXPECT_NE(run.status, 0) << command << ": " << run.output;
    EXPECT_NE(run.output.find("--threads"), std::string::npos) << command << ": " << run.output;
  }
}
