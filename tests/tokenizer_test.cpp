// Acceptance: token ids equal those of independent implementations (Hugging Face's Rust
// `tokenizers`, llama.cpp's test vectors) for every reference string under ../shared, and those
// of the tokenizers transformers builds from GGUF files (scripts/gguf_tokenizer_reference.py).
#include "text/tokenizer.hpp"

#include "io/checkpoint_tokenizer.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <thread>

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

fs::path models_dir() { return fs::path(relmoe::test_paths::source_dir()) / ".models"; }
fs::path models_reference(const std::string& name) { return models_dir() / "reference" / name; }

// The 208 e-commerce strings and the 66 edge cases, with the ids transformers gives them.
class GgufTokenizers : public ::testing::TestWithParam<std::string> {};

TEST_P(GgufTokenizers, IdsEqualTheTokenizerTransformersBuildsFromTheFile) {
  auto file = models_dir() / (GetParam() + ".gguf");
  if (!fs::exists(file)) file = models_reference("vocab") / (GetParam() + ".gguf");
  const auto reference = models_reference(GetParam() + ".tokens.jsonl");
  if (!fs::exists(file) || !fs::exists(reference))
    GTEST_SKIP() << file << " or " << reference << " is missing: run bash scripts/models.sh";
  const auto tok = relmoe::load_checkpoint_tokenizer(file);
  EXPECT_EQ(check(*tok, read_jsonl(reference), GetParam()), 274u);
}

INSTANTIATE_TEST_SUITE_P(Real, GgufTokenizers,
                         ::testing::Values("gemma-3-270m-q4_k_m", "SmolLM2-135M-Instruct.Q4_1", "qwen2", "llama-bpe",
                                           "llama-spm"),
                         [](const auto& info) {
                           std::string name = info.param.substr(0, info.param.find('.'));
                           for (char& c : name)
                             if (c == '-') c = '_';
                           return name;
                         });

TEST(Tokenizer, Gemma3TokenizerJsonMatchesHuggingFace) {
  RELMOE_REQUIRE_SHARED("tokenizers/gemma3/tokenizer.json");
  const auto reference = models_reference("gemma3-tokenizer-json.tokens.jsonl");
  if (!fs::exists(reference)) GTEST_SKIP() << reference << " is missing: run bash scripts/models.sh";
  EXPECT_EQ(check(tokenizer("tokenizers/gemma3"), read_jsonl(reference), "gemma3 tokenizer.json"), 274u);
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

// libsentencepiece's own encoder (the spm_encode program, run in its own process) as an
// independent reference for tokenizer.model on real relevance and title text.
TEST(Tokenizer, SentencePieceModelMatchesSpmEncodeOnRealText) {
  RELMOE_REQUIRE_SHARED("tokenizers/llama2-spm/tokenizer.model");
  RELMOE_REQUIRE_SHARED("data/corpus/titles.tsv");
  if (std::system("command -v spm_encode >/dev/null 2>&1") != 0) GTEST_SKIP() << "spm_encode not installed";
  std::vector<std::string> texts;
  std::ifstream titles(shared("data/corpus/titles.tsv"));
  std::string line;
  std::getline(titles, line);  // header
  while (texts.size() < 2000 && std::getline(titles, line)) {
    auto tab1 = line.find('\t'), tab2 = line.find('\t', tab1 + 1);
    texts.push_back(line.substr(tab1 + 1, tab2 - tab1 - 1));
  }
  const auto dir = relmoe::test::scratch_dir() / "relmoe_spm_check";
  fs::create_directories(dir);
  {
    std::ofstream input(dir / "input.txt");
    for (const auto& t : texts) input << t << "\n";
  }
  const auto command = "spm_encode --model=" + shared("tokenizers/llama2-spm/tokenizer.model").string() +
                       " --output_format=id < " + (dir / "input.txt").string() + " > " +
                       (dir / "ids.txt").string();
  ASSERT_EQ(std::system(command.c_str()), 0) << command;
  std::ifstream expected(dir / "ids.txt");
  const auto& tok = tokenizer("tokenizers/llama2-spm");
  std::size_t checked = 0;
  for (const auto& text : texts) {
    ASSERT_TRUE(std::getline(expected, line));
    Ids ids;
    std::istringstream fields(line);
    for (TokenId id; fields >> id;) ids.push_back(id);
    EXPECT_EQ(tok.encode(text, false), ids) << text;
    ++checked;
  }
  EXPECT_EQ(checked, 2000u);
  std::cout << "[ checked  ] spm_encode on titles.tsv: " << checked << " strings\n";
}

TEST(Tokenizer, EncodeIsThreadSafe) {
  RELMOE_REQUIRE_SHARED("reference/tokenization/ecommerce/qwen2_5.jsonl");
  const auto& tok = tokenizer("tokenizers/qwen2.5");
  const auto cases = read_jsonl(shared("reference/tokenization/ecommerce/qwen2_5.jsonl"));
  std::vector<std::thread> threads;
  std::atomic<std::size_t> mismatches{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int round = 0; round < 20; ++round)
        for (const auto& c : cases) mismatches += tok.encode(c.text, false) != c.ids;
    });
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(mismatches.load(), 0u);
}

namespace {

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const relmoe::Error& e) {
    return e.what();
  }
  return "(no error)";
}

// Assertion with the full message on failure.
::testing::AssertionResult contains(const std::string& text, const std::string& part) {
  if (text.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "'" << text << "' lacks '" << part << "'";
}

fs::path write_temp(const std::string& name, const std::string& content) {
  const auto path = relmoe::test::scratch_dir() / name;
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

}  // namespace

TEST(Tokenizer, ErrorsNameTheFileAndField) {
  EXPECT_TRUE(contains(error_of([] { relmoe::load_tokenizer("/nonexistent/tokenizer.json"); }), "/nonexistent/tokenizer.json: cannot open"));
  const auto bad_json = write_temp("relmoe_tok_errors/bad/tokenizer.json", "{\"model\": {\"type\": ");
  EXPECT_TRUE(contains(error_of([&] { relmoe::load_tokenizer(bad_json); }), "bad/tokenizer.json: invalid JSON"));
  EXPECT_TRUE(contains(error_of([] { relmoe::load_tokenizer_json_text(R"({"model": {"type": "WordLevel", "vocab": {}}})", "mem.json"); }), "mem.json: model.type: unsupported model type 'WordLevel'"));
  EXPECT_TRUE(contains(error_of([] { relmoe::load_tokenizer_json_text(R"({"model": {"vocab": {"a": 0}, "merges": [1]}})", "m.json"); }), "m.json: model.merges[0]: expected a string"));
  EXPECT_TRUE(contains(error_of([] { relmoe::load_tokenizer_json_text(R"({"model": {"vocab": {"a": 0}, "merges": ["a b"]}})", "m.json"); }), "m.json: model.merges[0]: merge 'a b' uses a token missing"));
  EXPECT_TRUE(contains(error_of([] { relmoe::load_tokenizer_json_text(R"({"model": {"vocab": {"a": "x"}, "merges": []}})", "m.json"); }), "m.json: model.vocab: id of 'a'"));
  EXPECT_TRUE(contains(error_of([] { relmoe::load_tokenizer_json_text(R"({"normalizer": {"type": "Lowercase"}, "model": {"vocab": {}, "merges": []}})", "m.json"); }), "m.json: normalizer.type: unsupported normalizer type 'Lowercase'"));
  EXPECT_TRUE(contains(error_of([] { relmoe::load_tokenizer_json_text(R"({"model": {"vocab": {}}})", "m.json"); }), "m.json: model: missing field 'merges'"));
  const auto empty_dir = relmoe::test::scratch_dir() / "relmoe_tok_errors/empty";
  fs::create_directories(empty_dir);
  EXPECT_TRUE(contains(error_of([&] { relmoe::load_tokenizer(empty_dir); }), "holds neither tokenizer.json nor tokenizer.model"));
  const auto bad_model = write_temp("relmoe_tok_errors/bad.model", std::string("\x0a\xff\xff\xff\xff", 5));
  EXPECT_TRUE(contains(error_of([&] { relmoe::load_tokenizer(bad_model); }), "bad.model: malformed SentencePiece model"));
}

TEST(Tokenizer, RejectsInvalidUtf8Input) {
  const auto tok = relmoe::load_tokenizer_json_text(R"({"model": {"vocab": {"a": 0}, "merges": []}})", "m.json");
  EXPECT_TRUE(contains(error_of([&] { tok->encode("a\xC3(", false); }), "invalid UTF-8 at byte 1"));
  EXPECT_TRUE(contains(error_of([&] { tok->encode("\xED\xA0\x80", false); }), "invalid UTF-8"));  // surrogate
  EXPECT_EQ(tok->encode("aa", false), (Ids{0, 0}));
}
