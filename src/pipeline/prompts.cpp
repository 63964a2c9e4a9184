#include "pipeline/prompts.hpp"

#include "base/error.hpp"
#include "text/truncation.hpp"

namespace relmoe {

std::string render_prompt(const Expert& expert, const Pair& p) {
  return expert.text().prompt.render({p.query, p.market, p.item, p.item_desc});
}

std::vector<TokenId> encode_prompt(const Expert& expert, const std::string& expert_name, const Pair& pair,
                                   const std::string& prompt, std::size_t limit, std::int64_t& truncated) {
  if (!expert.tokenizer()) fail("expert '" + expert_name + "'", "has no tokenizer.json or tokenizer.model");
  auto ids = expert.tokenizer()->encode(prompt, /*add_special=*/true);
  if (ids.empty()) fail("pair '" + pair.id + "'", "prompt encodes to no tokens for expert '" + expert_name + "'");
  if (truncate_prompt(ids, limit)) ++truncated;
  return ids;
}

}  // namespace relmoe
