#pragma once
// Bounded, thread-safe memo of word -> token ids. Words repeat heavily in queries and titles,
// and one cache hit replaces a dozen random accesses into the merge table. Direct-mapped with
// inline storage (one slot per hash, a newer word evicts an older one), so a lookup costs one
// hash, one mostly-uncontended striped lock and one or two cache lines.
#include "text/tokenizer.hpp"

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

namespace relmoe {

class WordCache {
 public:
  static constexpr std::size_t kMaxWordBytes = 30;  // longer words are not cached
  static constexpr std::size_t kMaxIds = 8;         // nor words of more tokens

  WordCache();

  // Appends the cached ids of `word` to `out`; false when absent.
  bool lookup(std::string_view word, std::vector<TokenId>& out) const;
  void insert(std::string_view word, const TokenId* ids, std::size_t count) const;

 private:
  struct Slot {
    std::uint64_t hash = 0;
    std::uint8_t word_size = 0, id_count = 0;  // id_count 0: empty
    char word[kMaxWordBytes];
    TokenId ids[kMaxIds];
  };
  static constexpr std::size_t kSlots = 1 << 14;
  static constexpr std::size_t kStripes = 64;

  std::unique_ptr<Slot[]> slots_;
  mutable std::array<std::mutex, kStripes> stripes_;
};

}  // namespace relmoe
