#pragma once
// Bounded, thread-safe memo of word -> token ids. Words repeat heavily in queries and titles,
// and one cache hit replaces a dozen random accesses into the merge table. Sharded so that
// concurrent encoders rarely wait on the same mutex; a full shard is simply emptied.
#include "text/tokenizer.hpp"

#include <array>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace relmoe {

class WordCache {
 public:
  static constexpr std::size_t kMaxWordBytes = 64;  // longer words are not cached

  // Appends the cached ids of `word` to `out`; false when absent.
  bool lookup(std::string_view word, std::vector<TokenId>& out) const;
  void insert(std::string_view word, const TokenId* ids, std::size_t count) const;

 private:
  struct Hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    std::mutex mutex;
    std::unordered_map<std::string, std::vector<TokenId>, Hash, std::equal_to<>> entries;
  };
  static constexpr std::size_t kShards = 32;
  static constexpr std::size_t kEntriesPerShard = 2048;

  Shard& shard_of(std::string_view word) const { return shards_[Hash{}(word) % kShards]; }

  mutable std::array<Shard, kShards> shards_;
};

}  // namespace relmoe
