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

// `expert train` trains from scratch or fine-tunes --base; the options of one kind are refused
// with the other, naming both.
TEST(CliOptions, ExpertTrainKeepsScratchAndFineTuningOptionsApart) {
  const auto bin = relmoe::test::binary().string() + " expert train --data d.tsv --out o";
  const auto mixed = relmoe::test::run_command(bin + " --base model.gguf --arch llama");
  EXPECT_NE(mixed.status, 0);
  EXPECT_NE(mixed.output.find("--arch"), std::string::npos) << mixed.output;
  EXPECT_NE(mixed.output.find("--base"), std::string::npos) << mixed.output;
  const auto lora = relmoe::test::run_command(bin + " --lora-rank 8 --train-tokenizer spm-bpe:600");
  EXPECT_NE(lora.status, 0);
  EXPECT_NE(lora.output.find("--lora-rank requires --base"), std::string::npos) << lora.output;
  const auto missing = relmoe::test::run_command(bin + " --base /no/such/model.gguf");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("/no/such/model.gguf does not exist"), std::string::npos) << missing.output;
}
