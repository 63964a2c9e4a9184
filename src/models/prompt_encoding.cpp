#include "models/prompt_encoding.hpp"

#include "base/error.hpp"
#include "models/expert.hpp"
#include "text/truncation.hpp"

namespace relmoe {

PromptEncoder::PromptEncoder(const Tokenizer& tokenizer, PromptTemplate prompt, std::size_t limit, std::string expert)
    : tokenizer_(&tokenizer), prompt_(std::move(prompt)), limit_(limit), expert_(std::move(expert)) {}

PromptEncoder PromptEncoder::of(const Expert& expert, const std::string& name, std::size_t limit) {
  if (!expert.tokenizer()) fail("expert '" + name + "'", "has no tokenizer.json or tokenizer.model");
  return PromptEncoder(*expert.tokenizer(), expert.text().prompt, limit, name);
}

std::string PromptEncoder::render(const Pair& p) const { return prompt_.render({p.query, p.market, p.item, p.item_desc}); }

std::vector<TokenId> PromptEncoder::encode(const Pair& pair, const std::string& rendered, std::int64_t& truncated) const {
  auto ids = tokenizer_->encode(rendered, /*add_special=*/true);
  if (ids.empty()) fail("pair '" + pair.id + "'", "prompt encodes to no tokens for expert '" + expert_ + "'");
  if (truncate_prompt(ids, limit_)) ++truncated;
  return ids;
}

}  // namespace relmoe
