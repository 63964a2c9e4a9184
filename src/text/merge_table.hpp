#pragma once
// BPE merge ranks keyed by the pair of token ids: an open-addressing hash table, because the
// merge lookup is the innermost operation of tokenization (Gemma has 580k merges).
#include "text/tokenizer.hpp"

#include <cstdint>
#include <vector>

namespace relmoe {

struct Merge {
  std::uint32_t rank;  // position in the merges list: lower merges first
  TokenId result;      // id of the concatenated token
};

class MergeTable {
 public:
  explicit MergeTable(std::size_t expected = 0);
  // A later entry for the same pair replaces the earlier one (as Hugging Face's merge map).
  void insert(TokenId left, TokenId right, Merge merge);
  const Merge* find(TokenId left, TokenId right) const {
    if (slots_.empty()) return nullptr;
    const std::uint64_t key = key_of(left, right);
    for (std::size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
      const Slot& slot = slots_[i];
      if (slot.key == key) return &slot.merge;
      if (slot.key == kEmpty) return nullptr;
    }
  }
  std::size_t size() const { return size_; }

 private:
  struct Slot {
    std::uint64_t key;
    Merge merge;
  };
  static constexpr std::uint64_t kEmpty = ~std::uint64_t{0};
  static std::uint64_t key_of(TokenId left, TokenId right) {
    return (std::uint64_t(std::uint32_t(left)) << 32) | std::uint32_t(right);
  }
  static std::size_t hash(std::uint64_t key) {
    key ^= key >> 33;
    key *= 0xff51afd7ed558ccdULL;
    key ^= key >> 33;
    return static_cast<std::size_t>(key);
  }
  void grow();

  std::vector<Slot> slots_;
  std::size_t mask_ = 0;
  std::size_t size_ = 0;
};

}  // namespace relmoe
