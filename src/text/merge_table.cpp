#include "text/merge_table.hpp"

#include <algorithm>
#include <bit>

namespace relmoe {

MergeTable::MergeTable(std::size_t expected) {
  const std::size_t capacity = std::bit_ceil(std::max<std::size_t>(16, expected * 2));
  slots_.assign(capacity, Slot{kEmpty, {}});
  mask_ = capacity - 1;
}

void MergeTable::grow() {
  std::vector<Slot> old = std::move(slots_);
  slots_.assign(old.size() * 2, Slot{kEmpty, {}});
  mask_ = slots_.size() - 1;
  size_ = 0;
  for (const Slot& slot : old)
    if (slot.key != kEmpty)
      insert(TokenId(slot.key >> 32), TokenId(std::uint32_t(slot.key)), slot.merge);
}

void MergeTable::insert(TokenId left, TokenId right, Merge merge) {
  if ((size_ + 1) * 2 > slots_.size()) grow();
  const std::uint64_t key = key_of(left, right);
  for (std::size_t i = hash(key) & mask_;; i = (i + 1) & mask_) {
    Slot& slot = slots_[i];
    if (slot.key == key) {
      slot.merge = merge;
      return;
    }
    if (slot.key == kEmpty) {
      slot = Slot{key, merge};
      ++size_;
      return;
    }
  }
}

}  // namespace relmoe
