#include "text/expert_text_config.hpp"

#include "text/json_node.hpp"
#include "text/read_file.hpp"

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

std::optional<AnswerTokenIds> resolve_answer_tokens(const AnswerTokens& answers, const Tokenizer& tokenizer) {
  const auto yes = tokenizer.single_token_id(answers.yes);
  const auto no = tokenizer.single_token_id(answers.no);
  if (!yes || !no) return std::nullopt;
  return AnswerTokenIds{*yes, *no};
}

}  // namespace relmoe
