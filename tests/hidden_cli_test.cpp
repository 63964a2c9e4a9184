// `relmoe hidden` end to end on story-llama: ids and text lines against the references.
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

namespace {

struct Run {
  int status;
  std::vector<std::string> out;
  std::string err;
};

Run run_hidden(const std::string& input, const std::string& args) {
  auto dir = relmoe::test::scratch_dir();
  auto in = dir / "relmoe_hidden_in.jsonl", out = dir / "relmoe_hidden_out.jsonl",
       err = dir / "relmoe_hidden_err.txt";
  std::ofstream(in) << input;
  const auto command = relmoe::test::binary().string() + " hidden " + args + " < " + in.string() +
                       " > " + out.string() + " 2> " + err.string();
  Run run{std::system(command.c_str()), {}, ""};
  std::ifstream lines(out);
  for (std::string line; std::getline(lines, line);) run.out.push_back(line);
  std::stringstream text;
  text << std::ifstream(err).rdbuf();
  run.err = text.str();
  return run;
}

std::filesystem::path story() { return relmoe::test::shared_dir() / "reference/models/story-llama"; }

std::vector<nlohmann::json> refs() {
  std::ifstream in(story() / "refs.jsonl");
  std::vector<nlohmann::json> out;
  for (std::string line; std::getline(in, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

float max_diff(const nlohmann::json& got, const nlohmann::json& want) {
  EXPECT_EQ(got.size(), want.size());
  float worst = 0;
  for (std::size_t i = 0; i < got.size() && i < want.size(); ++i)
    worst = std::max(worst, std::abs(got[i].get<float>() - want[i].get<float>()));
  return worst;
}

TEST(HiddenCli, IdsAndTextLinesMatchReferenceInOrder) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/refs.jsonl");
  auto expected = refs();
  std::string input;
  for (const auto& r : expected) {
    input += nlohmann::json{{"ids", r["ids"]}}.dump() + "\n";
    input += nlohmann::json{{"text", r["text"]}}.dump() + "\n";
  }
  auto run = run_hidden(input, "--model " + story().string() + " --batch 4 --threads 1");
  ASSERT_EQ(run.status, 0) << run.err;
  ASSERT_EQ(run.out.size(), 2 * expected.size());
  for (std::size_t i = 0; i < run.out.size(); ++i) {
    auto line = nlohmann::json::parse(run.out[i]);
    EXPECT_LE(max_diff(line["last_hidden"], expected[i / 2]["last_hidden"]), 1e-4) << i;
  }
}

TEST(HiddenCli, ATokenBudgetBelowTheInputsOnlyBatchesWhileMaxPromptTokensCuts) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/refs.jsonl");
  auto expected = refs();
  std::string input;
  for (const auto& r : expected) input += nlohmann::json{{"ids", r["ids"]}}.dump() + "\n";
  const std::string model = "--model " + story().string() + " --threads 1";
  // Every reference input is longer than 4 tokens but one: each runs alone, uncut.
  auto batched = run_hidden(input, model + " --token-budget 4");
  ASSERT_EQ(batched.status, 0) << batched.err;
  ASSERT_EQ(batched.out.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_LE(max_diff(nlohmann::json::parse(batched.out[i])["last_hidden"], expected[i]["last_hidden"]), 1e-4) << i;
  auto cut = run_hidden(input, model + " --max-prompt-tokens 4");
  ASSERT_EQ(cut.status, 0) << cut.err;
  EXPECT_NE(cut.err.find("8 inputs were longer than 4 tokens"), std::string::npos) << cut.err;
  EXPECT_GT(max_diff(nlohmann::json::parse(cut.out.back())["last_hidden"], expected.back()["last_hidden"]), 1e-2);
}

TEST(HiddenCli, BadLinesNameTheLineAndFail) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/config.json");
  const std::string model = "--model " + story().string();
  auto bad_json = run_hidden("{\"ids\": [1, 2]}\n{\"ids\": [1,\n", model);
  EXPECT_NE(bad_json.status, 0);
  EXPECT_NE(bad_json.err.find("stdin:2"), std::string::npos) << bad_json.err;
  auto out_of_vocab = run_hidden("{\"ids\": [1, 2048]}\n", model);
  EXPECT_NE(out_of_vocab.status, 0);
  EXPECT_NE(out_of_vocab.err.find("stdin:1: id 2048"), std::string::npos) << out_of_vocab.err;
  auto empty = run_hidden("{\"ids\": [5]}\n{\"ids\": [5]}\n{\"ids\": []}\n", model);
  EXPECT_NE(empty.status, 0);
  EXPECT_NE(empty.err.find("stdin:3: no tokens"), std::string::npos) << empty.err;
}

}  // namespace
