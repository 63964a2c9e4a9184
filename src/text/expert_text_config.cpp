#include "text/expert_text_config.hpp"

#include "text/json_node.hpp"
#include "text/read_file.hpp"

#include <algorithm>

namespace relmoe {

ExpertTextConfig parse_expert_text_config(std::string_view json, const std::string& source) {
  const auto root_json = parse_json_text(json, source);
  const JsonNode root(root_json, source);
  root.object();
  ExpertTextConfig config;
  if (auto text = root.find("prompt_template"))
    config.prompt = PromptTemplate(text->string(), source + ": prompt_template");
  if (auto answers = root.find("answer_tokens")) {
    answers->object();
    for (auto [key, target] : {std::pair{"yes", &config.answers.yes}, std::pair{"no", &config.answers.no}}) {
      if (auto value = answers->find(key)) {
        *target = value->string();
        if (target->empty()) value->fail("empty answer string");
      }
    }
  }
  return config;
}

ExpertTextConfig load_expert_text_config(const std::filesystem::path& dir) {
  const auto path = dir / "relmoe.json";
  if (!std::filesystem::exists(path)) return {};
  return parse_expert_text_config(read_file(path), path.string());
}

namespace {

// The token that continues a prompt with `answer`: `answer` itself when it is one token, else
// the one token it adds after a prompt's last word. That covers SentencePiece tokenizers with a
// dummy prefix, which encode " yes" alone as "▁" + "▁yes" but "Answer: yes" as ... ":" "▁yes".
// An answer that adds two tokens there (byte-level "Ġ" + "yes") is not one token.
std::optional<TokenId> answer_token(const Tokenizer& tokenizer, const std::string& answer) {
  if (auto id = tokenizer.single_token_id(answer)) return id;
  constexpr std::string_view kContext = "Answer:";
  const auto before = tokenizer.encode(kContext, false);
  const auto after = tokenizer.encode(std::string(kContext) + answer, false);
  if (after.size() != before.size() + 1 || !std::equal(before.begin(), before.end(), after.begin()))
    return std::nullopt;
  return after.back();
}

}  // namespace

std::optional<AnswerTokenIds> resolve_answer_tokens(const AnswerTokens& answers, const Tokenizer& tokenizer) {
  const auto yes = answer_token(tokenizer, answers.yes);
  const auto no = answer_token(tokenizer, answers.no);
  if (!yes || !no) return std::nullopt;
  return AnswerTokenIds{*yes, *no};
}

}  // namespace relmoe
