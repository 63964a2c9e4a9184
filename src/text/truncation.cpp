#include "text/truncation.hpp"

#include <algorithm>

namespace relmoe {

bool truncate_prompt(std::vector<TokenId>& ids, std::size_t limit) {
  if (ids.size() <= limit) return false;
  const std::size_t tail = std::min(kPromptTailTokens, limit);
  const auto head = static_cast<std::ptrdiff_t>(limit - tail);
  ids.erase(ids.begin() + head, ids.end() - static_cast<std::ptrdiff_t>(tail));
  return true;
}

}  // namespace relmoe
