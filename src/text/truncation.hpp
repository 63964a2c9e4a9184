#pragma once
// The one policy for a prompt longer than a model takes (expert training, `relmoe hidden`,
// `embed` and `score` alike): keep its head and its last kPromptTailTokens ids. The tail is the
// end of the prompt template ("... Answer:"), after which the answer token is read, so a long
// item description loses its middle, never the question.
#include "text/tokenizer.hpp"

#include <cstddef>
#include <vector>

namespace relmoe {

inline constexpr std::size_t kPromptTailTokens = 8;

// Cuts `ids` to `limit` tokens by the policy above; true when it cut.
bool truncate_prompt(std::vector<TokenId>& ids, std::size_t limit);

}  // namespace relmoe
