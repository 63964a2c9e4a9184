// `relmoe tokenize` end to end: the binary run on a file of JSON lines.
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace {

namespace fs = std::filesystem;

struct Run {
  int status;
  std::string output;  // stdout and stderr
};

Run run_tokenize(const std::string& input, const std::string& arguments) {
  const auto path = relmoe::test::scratch_dir() / "relmoe_tokenize_input.jsonl";
  std::ofstream(path, std::ios::binary) << input;
  const auto command = relmoe::test::binary().string() + " tokenize " + arguments + " < " + path.string() + " 2>&1";
  FILE* pipe = popen(command.c_str(), "r");
  Run run{-1, ""};
  if (!pipe) return run;
  char buffer[4096];
  for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;) run.output.append(buffer, n);
  run.status = pclose(pipe);
  return run;
}

}  // namespace

TEST(TokenizeCli, WritesOneIdLinePerInputLineMatchingTheReference) {
  RELMOE_REQUIRE_SHARED("reference/tokenization/story-llama.jsonl");
  std::ifstream reference(relmoe::test::shared_dir() / "reference/tokenization/story-llama.jsonl");
  std::string input, expected;
  std::size_t lines = 0;
  for (std::string line; std::getline(reference, line); ++lines) {
    const auto ref = nlohmann::json::parse(line);
    input += nlohmann::json{{"text", ref["text"]}}.dump() + "\n";
    expected += nlohmann::json{{"ids", ref["ids_with_special"]}}.dump() + "\n";
  }
  ASSERT_GT(lines, 0u);
  const auto tokenizer = (relmoe::test::shared_dir() / "reference/models/story-llama").string();
  const auto run = run_tokenize(input, "--tokenizer " + tokenizer + " --add-special");
  EXPECT_EQ(run.status, 0) << run.output;
  // Compare as JSON values: the output's spacing is not part of the contract.
  std::istringstream got(run.output), want(expected);
  std::size_t compared = 0;
  for (std::string g, w; std::getline(want, w); ++compared) {
    ASSERT_TRUE(std::getline(got, g)) << "missing output line " << compared + 1;
    EXPECT_EQ(nlohmann::json::parse(g), nlohmann::json::parse(w)) << "line " << compared + 1;
  }
  std::string extra;
  EXPECT_FALSE(std::getline(got, extra)) << "extra output: " << extra;
  EXPECT_EQ(compared, lines);
}

TEST(TokenizeCli, ErrorsNameTheStdinLine) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/tokenizer.json");
  const auto tokenizer = "--tokenizer " + (relmoe::test::shared_dir() / "reference/models/story-llama").string();
  auto bad_json = run_tokenize("{\"text\": \"a\"}\n{\"text\": \n", tokenizer);
  EXPECT_NE(bad_json.status, 0);
  EXPECT_NE(bad_json.output.find("relmoe: error: stdin:2: invalid JSON"), std::string::npos) << bad_json.output;
  auto no_text = run_tokenize("{\"txt\": \"a\"}\n", tokenizer);
  EXPECT_NE(no_text.status, 0);
  EXPECT_NE(no_text.output.find("stdin:1: expected an object with a string \"text\""), std::string::npos)
      << no_text.output;
  auto bad_utf8 = run_tokenize("{\"text\": \"a\"}\n{\"text\": \"\xC3(\"}\n", tokenizer);
  EXPECT_NE(bad_utf8.status, 0);
  EXPECT_NE(bad_utf8.output.find("relmoe: error: stdin:2:"), std::string::npos) << bad_utf8.output;
  auto missing = run_tokenize("", "--tokenizer /nonexistent/tok.json");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("/nonexistent/tok.json"), std::string::npos) << missing.output;
}
