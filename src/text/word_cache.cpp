#include "text/word_cache.hpp"

#include <cstring>
#include <functional>

namespace relmoe {

WordCache::WordCache() : slots_(std::make_unique<Slot[]>(kSlots)) {}

bool WordCache::lookup(std::string_view word, std::vector<TokenId>& out) const {
  if (word.size() > kMaxWordBytes) return false;
  const std::uint64_t hash = std::hash<std::string_view>{}(word);
  const std::size_t index = hash & (kSlots - 1);
  std::lock_guard lock(stripes_[index % kStripes]);
  const Slot& slot = slots_[index];
  if (slot.id_count == 0 || slot.hash != hash || slot.word_size != word.size() ||
      std::memcmp(slot.word, word.data(), word.size()) != 0)
    return false;
  out.insert(out.end(), slot.ids, slot.ids + slot.id_count);
  return true;
}

void WordCache::insert(std::string_view word, const TokenId* ids, std::size_t count) const {
  if (word.size() > kMaxWordBytes || count == 0 || count > kMaxIds) return;
  const std::uint64_t hash = std::hash<std::string_view>{}(word);
  const std::size_t index = hash & (kSlots - 1);
  std::lock_guard lock(stripes_[index % kStripes]);
  Slot& slot = slots_[index];
  slot.hash = hash;
  slot.word_size = static_cast<std::uint8_t>(word.size());
  slot.id_count = static_cast<std::uint8_t>(count);
  std::memcpy(slot.word, word.data(), word.size());
  std::memcpy(slot.ids, ids, count * sizeof(TokenId));
}

}  // namespace relmoe
