#pragma once
// The one way a pair becomes an expert's input ids, shared by expert training, `relmoe embed`
// and `relmoe score`, so an expert is trained on exactly what it later reads: its prompt
// template rendered with the pair's fields, encoded with special tokens, and a prompt longer
// than the limit cut by the truncation policy (text/truncation.hpp: head + last 8 tokens).
#include "io/pair.hpp"
#include "text/prompt_template.hpp"
#include "text/tokenizer.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace relmoe {

class Expert;

// The prompt-token limit `relmoe embed` cuts prompts to unless told otherwise (and the one
// assumed for an expert embedded before the limit was recorded); an expert's own context
// length lowers it (max_prompt_tokens, models/model_config.hpp).
inline constexpr std::int64_t kDefaultPromptTokens = 4096;

class PromptEncoder {
 public:
  // `expert` names the expert in errors; `limit` is max_prompt_tokens(config, the prompt-token limit).
  PromptEncoder(const Tokenizer& tokenizer, PromptTemplate prompt, std::size_t limit, std::string expert);
  // An expert's own tokenizer and template; an expert without a tokenizer is an error naming it.
  static PromptEncoder of(const Expert& expert, const std::string& name, std::size_t limit);

  std::string render(const Pair& pair) const;
  // The ids of `rendered` (render(pair)); a cut prompt is counted in `truncated`. A prompt that
  // encodes to no tokens is an error naming the pair and the expert.
  std::vector<TokenId> encode(const Pair& pair, const std::string& rendered, std::int64_t& truncated) const;
  std::vector<TokenId> encode(const Pair& pair, std::int64_t& truncated) const {
    return encode(pair, render(pair), truncated);
  }

 private:
  const Tokenizer* tokenizer_;
  PromptTemplate prompt_;
  std::size_t limit_;
  std::string expert_;
};

}  // namespace relmoe
