#include "text/expert_text_config.hpp"
#include "text/prompt_template.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <fstream>
#include <functional>

namespace {

std::string error_of(const std::function<void()>& action) {
  try {
    action();
  } catch (const relmoe::Error& e) {
    return e.what();
  }
  return "(no error)";
}

const relmoe::PromptFields kPair{"red shoes", "qc-en", "Shoes > Women", "Leather, size 38"};

}  // namespace

TEST(PromptTemplate, DefaultEndsWhereTheAnswerFollows) {
  relmoe::PromptTemplate prompt;
  EXPECT_EQ(prompt.render(kPair),
            "Query: red shoes\nMarket: qc-en\nProduct: Shoes > Women\nLeather, size 38\n"
            "Is the product relevant to the query? Answer:");
  auto no_desc = kPair;
  no_desc.item_desc = "";
  EXPECT_EQ(prompt.render(no_desc),
            "Query: red shoes\nMarket: qc-en\nProduct: Shoes > Women\n"
            "Is the product relevant to the query? Answer:");
}

TEST(PromptTemplate, EscapesAndLineRules) {
  EXPECT_EQ(relmoe::PromptTemplate("{{{query}}} {{item}}").render(kPair), "{red shoes} {item}");
  auto no_desc = kPair;
  no_desc.item_desc = "";
  // An empty placeholder inside a line stays (only whole lines go).
  EXPECT_EQ(relmoe::PromptTemplate("[{item_desc}]").render(no_desc), "[]");
  EXPECT_EQ(relmoe::PromptTemplate("Q: {query}\n{item_desc}").render(no_desc), "Q: red shoes");
  EXPECT_EQ(relmoe::PromptTemplate("Q: {query}\n{item_desc}").render(kPair), "Q: red shoes\nLeather, size 38");
  EXPECT_EQ(relmoe::PromptTemplate("{item_desc}\nA").render(no_desc), "A");
}

TEST(PromptTemplate, RejectsUnknownPlaceholdersAndStrayBraces) {
  EXPECT_NE(error_of([] { relmoe::PromptTemplate("{query} {title}", "t"); }).find("t: unknown placeholder {title}"),
            std::string::npos);
  EXPECT_NE(error_of([] { relmoe::PromptTemplate("{query"); }).find("unclosed '{'"), std::string::npos);
  EXPECT_NE(error_of([] { relmoe::PromptTemplate("a } b"); }).find("unmatched '}'"), std::string::npos);
}

TEST(ExpertTextConfig, DefaultsWithoutRelmoeJson) {
  const auto dir = relmoe::test::scratch_dir() / "relmoe_expert_none";
  std::filesystem::create_directories(dir);
  std::filesystem::remove(dir / "relmoe.json");
  const auto config = relmoe::load_expert_text_config(dir);
  EXPECT_EQ(config.prompt.text(), relmoe::PromptTemplate::kDefault);
  EXPECT_EQ(config.answers.yes, " yes");
  EXPECT_EQ(config.answers.no, " no");
}

TEST(ExpertTextConfig, ReadsTemplateAndAnswers) {
  const auto dir = relmoe::test::scratch_dir() / "relmoe_expert_custom";
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "relmoe.json")
      << R"({"prompt_template": "{market}|{query}|{item}", "answer_tokens": {"yes": " Yes", "no": " No"}, "other": 1})";
  const auto config = relmoe::load_expert_text_config(dir);
  EXPECT_EQ(config.prompt.render(kPair), "qc-en|red shoes|Shoes > Women");
  EXPECT_EQ(config.answers.yes, " Yes");
  EXPECT_EQ(config.answers.no, " No");
}

TEST(ExpertTextConfig, ErrorsNameFileAndField) {
  auto error = [](const std::string& json) {
    return error_of([&] { relmoe::parse_expert_text_config(json, "e/relmoe.json"); });
  };
  EXPECT_NE(error(R"({"answer_tokens": {"yes": 1}})").find("e/relmoe.json: answer_tokens.yes: expected a string"),
            std::string::npos);
  EXPECT_NE(error(R"({"answer_tokens": {"no": ""}})").find("answer_tokens.no: empty answer string"), std::string::npos);
  EXPECT_NE(error(R"({"prompt_template": "{qry}"})").find("e/relmoe.json: prompt_template: unknown placeholder {qry}"),
            std::string::npos);
  EXPECT_NE(error(R"({"prompt_template": 3})").find("prompt_template: expected a string"), std::string::npos);
  EXPECT_NE(error("{").find("e/relmoe.json: invalid JSON"), std::string::npos);
  EXPECT_NE(error("[]").find("top level: expected an object"), std::string::npos);
}

TEST(ExpertTextConfig, ResolvesAnswersToSingleTokens) {
  RELMOE_REQUIRE_SHARED("tokenizers/qwen2.5/tokenizer.json");
  RELMOE_REQUIRE_SHARED("tokenizers/gemma2/tokenizer.json");
  const auto qwen = relmoe::load_tokenizer(relmoe::test::shared_dir() / "tokenizers/qwen2.5");
  const auto ids = relmoe::resolve_answer_tokens({}, *qwen);
  ASSERT_TRUE(ids.has_value());
  // The vocabulary spells a leading space as "Ġ".
  EXPECT_EQ(ids->yes, qwen->token_to_id("Ġyes"));
  EXPECT_EQ(ids->no, qwen->token_to_id("Ġno"));
  EXPECT_FALSE(relmoe::resolve_answer_tokens({" yes", " certainly not"}, *qwen).has_value());

  const auto gemma = relmoe::load_tokenizer(relmoe::test::shared_dir() / "tokenizers/gemma2");
  const auto gemma_ids = relmoe::resolve_answer_tokens({}, *gemma);
  ASSERT_TRUE(gemma_ids.has_value());
  EXPECT_EQ(gemma_ids->yes, gemma->token_to_id("▁yes"));
  EXPECT_EQ(gemma_ids->no, gemma->token_to_id("▁no"));
}

// Llama 2's tokenizer.model adds a dummy prefix, so " yes" is "▁" + "▁yes"; the answer token is
// "▁yes" (id 4874; "▁no" is 694, as spm_export_vocab lists them).
TEST(ExpertTextConfig, ResolvesDummyPrefixAnswersToTheWordPiece) {
  RELMOE_REQUIRE_SHARED("tokenizers/llama2-spm/tokenizer.model");
  const auto llama2 = relmoe::load_tokenizer(relmoe::test::shared_dir() / "tokenizers/llama2-spm/tokenizer.model");
  ASSERT_EQ(llama2->encode(" yes", false).size(), 2u);
  const auto ids = relmoe::resolve_answer_tokens({}, *llama2);
  ASSERT_TRUE(ids.has_value());
  EXPECT_EQ(ids->yes, 4874);
  EXPECT_EQ(ids->no, 694);
  EXPECT_FALSE(relmoe::resolve_answer_tokens({" yes", " certainly not"}, *llama2).has_value());
}
