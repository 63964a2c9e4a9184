#pragma once
// The text side of an expert directory: prompt template and yes/no answer strings from the
// optional relmoe.json (docs/ARCHITECTURE.md "Expert directory"):
//   {"prompt_template": "...", "answer_tokens": {"yes": " yes", "no": " no"}}
// Other members of relmoe.json are left to other readers.
#include "text/prompt_template.hpp"
#include "text/tokenizer.hpp"

#include <filesystem>
#include <optional>
#include <string>

namespace relmoe {

struct AnswerTokens {
  std::string yes = " yes";
  std::string no = " no";
};

struct ExpertTextConfig {
  PromptTemplate prompt;
  AnswerTokens answers;
};

// Defaults when `dir`/relmoe.json is absent; errors name the file and the field.
ExpertTextConfig load_expert_text_config(const std::filesystem::path& dir);
// Same, from relmoe.json text (`source` names it in errors).
ExpertTextConfig parse_expert_text_config(std::string_view json, const std::string& source);

struct AnswerTokenIds {
  TokenId yes, no;
};

// The token each answer string continues a prompt with: the answer's single token, or the one
// token it adds after "Answer:" (SentencePiece's dummy prefix makes " yes" alone "▁" + "▁yes");
// nullopt when an answer is several tokens.
std::optional<AnswerTokenIds> resolve_answer_tokens(const AnswerTokens& answers, const Tokenizer& tokenizer);

}  // namespace relmoe
