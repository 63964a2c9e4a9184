// Acceptance: token ids equal those of independent implementations (Hugging Face's Rust
// `tokenizers`, llama.cpp's test vectors) for every reference string under ../shared.
#include "text/tokenizer.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <fstream>
#include <map>
#include <sstream>

namespace {

namespace fs = std::filesystem;
using relmoe::TokenId;
using Ids = std::vector<TokenId>;

fs::path shared(const std::string& relative) { return relmoe::test::shared_dir() / relative; }

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Tokenizers are large (Gemma's file is 17 MB): load each once for the whole test program.
const relmoe::Tokenizer& tokenizer(const std::string& relative) {
  static std::map<std::string, std::unique_ptr<relmoe::Tokenizer>> loaded;
  auto& slot = loaded[relative];
  if (!slot) slot = relmoe::load_tokenizer(shared(relative));
  return *slot;
}

struct Case {
  std::string text;
  Ids ids;
  std::optional<Ids> ids_with_special;
};

// Compares every case; returns how many strings were checked.
std::size_t check(const relmoe::Tokenizer& tok, const std::vector<Case>& cases, const std::string& label) {
  std::size_t checked = 0;
  for (const auto& c : cases) {
    EXPECT_EQ(tok.encode(c.text, false), c.ids) << label << " text: " << nlohmann::json(c.text).dump();
    if (c.ids_with_special) {
      EXPECT_EQ(tok.encode(c.text, true), *c.ids_with_special)
          << label << " (with special) text: " << nlohmann::json(c.text).dump();
    }
    ++checked;
  }
  std::cout << "[ checked  ] " << label << ": " << checked << " strings\n";
  return checked;
}

Case case_of(const nlohmann::json& j) {
  return {j.at("text").get<std::string>(), j.at("ids").get<Ids>(), j.at("ids_with_special").get<Ids>()};
}

std::vector<Case> read_reference_json(const fs::path& path) {
  std::vector<Case> cases;
  const auto root = nlohmann::json::parse(slurp(path));
  for (const auto& test : root.at("tests")) cases.push_back(case_of(test));
  return cases;
}

std::vector<Case> read_jsonl(const fs::path& path) {
  std::vector<Case> cases;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) cases.push_back(case_of(nlohmann::json::parse(line)));
  return cases;
}

// llama.cpp's format: .inp holds strings each followed by "\n__ggml_vocab_test__\n"; .out one
// line of " id id ..." per string.
std::vector<Case> read_llama_cpp(const fs::path& stem) {
  const std::string separator = "\n__ggml_vocab_test__\n";
  const auto inputs = slurp(stem.string() + ".inp");
  std::ifstream out(stem.string() + ".out");
  std::vector<Case> cases;
  for (std::size_t from = 0, at; (at = inputs.find(separator, from)) != std::string::npos;
       from = at + separator.size()) {
    Case c{inputs.substr(from, at - from), {}, std::nullopt};
    std::string line;
    std::getline(out, line);
    std::istringstream ids(line);
    for (TokenId id; ids >> id;) c.ids.push_back(id);
    cases.push_back(std::move(c));
  }
  std::string extra;
  EXPECT_FALSE(std::getline(out, extra) && !extra.empty()) << stem << ": more outputs than inputs";
  return cases;
}

struct Model {
  const char* reference;  // file stem under reference/tokenization
  const char* directory;  // under tokenizers/
};
constexpr Model kModels[] = {{"qwen2_5", "qwen2.5"}, {"gemma2", "gemma2"}, {"llama3", "llama3"}};

}  // namespace

TEST(Tokenizer, MatchesHuggingFaceReference66) {
  for (const auto& m : kModels) {
    const auto ref = std::string("reference/tokenization/reference-ids-66/") + m.reference + ".json";
    RELMOE_REQUIRE_SHARED(ref);
    EXPECT_EQ(check(tokenizer(std::string("tokenizers/") + m.directory), read_reference_json(shared(ref)), ref), 66u);
  }
}

TEST(Tokenizer, MatchesHuggingFaceOnEcommerceText) {
  for (const auto& m : kModels) {
    const auto ref = std::string("reference/tokenization/ecommerce/") + m.reference + ".jsonl";
    RELMOE_REQUIRE_SHARED(ref);
    EXPECT_EQ(check(tokenizer(std::string("tokenizers/") + m.directory), read_jsonl(shared(ref)), ref), 208u);
  }
}

TEST(Tokenizer, MatchesStoryLlamaWithUnknownToken) {
  RELMOE_REQUIRE_SHARED("reference/tokenization/story-llama.jsonl");
  const auto& tok = tokenizer("reference/models/story-llama/tokenizer.json");
  const auto cases = read_jsonl(shared("reference/tokenization/story-llama.jsonl"));
  EXPECT_EQ(check(tok, cases, "story-llama.jsonl"), 75u);
  EXPECT_EQ(tok.encode("", true), Ids{1});  // BOS <|start_story|>
}

TEST(Tokenizer, MatchesLlamaCppVocabTests) {
  const std::pair<const char*, const char*> files[] = {
      {"ggml-vocab-qwen2.gguf", "tokenizers/qwen2.5"},
      {"ggml-vocab-llama-bpe.gguf", "tokenizers/llama3"},
      {"ggml-vocab-llama-spm.gguf", "tokenizers/llama2-spm"}};
  for (const auto& [stem, tok] : files) {
    const auto ref = std::string("reference/tokenization/llama.cpp-vocab/") + stem;
    RELMOE_REQUIRE_SHARED(ref + ".inp");
    EXPECT_EQ(check(tokenizer(tok), read_llama_cpp(shared(ref)), ref), 46u);
  }
}
