#include "text/word_cache.hpp"

namespace relmoe {

bool WordCache::lookup(std::string_view word, std::vector<TokenId>& out) const {
  if (word.size() > kMaxWordBytes) return false;
  Shard& shard = shard_of(word);
  std::lock_guard lock(shard.mutex);
  const auto it = shard.entries.find(word);
  if (it == shard.entries.end()) return false;
  out.insert(out.end(), it->second.begin(), it->second.end());
  return true;
}

void WordCache::insert(std::string_view word, const TokenId* ids, std::size_t count) const {
  if (word.size() > kMaxWordBytes) return;
  Shard& shard = shard_of(word);
  std::lock_guard lock(shard.mutex);
  if (shard.entries.size() >= kEntriesPerShard) shard.entries.clear();
  shard.entries.try_emplace(std::string(word), ids, ids + count);
}

}  // namespace relmoe
