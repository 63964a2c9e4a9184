#include "models/token_batch.hpp"

#include "base/error.hpp"

#include <algorithm>

namespace relmoe {

TokenBatch make_batch(const std::vector<std::vector<TokenId>>& sequences, torch::Device device,
                      Padding padding) {
  if (sequences.empty()) fail("batch", "no sequences");
  std::size_t longest = 0;
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    if (sequences[i].empty()) fail("batch", "sequence " + std::to_string(i) + " has no tokens");
    longest = std::max(longest, sequences[i].size());
  }
  const auto rows = static_cast<std::int64_t>(sequences.size());
  const auto cols = static_cast<std::int64_t>(longest);
  auto ids = torch::zeros({rows, cols}, torch::kInt64);
  auto mask = torch::zeros({rows, cols}, torch::kBool);
  auto id = ids.accessor<std::int64_t, 2>();
  auto real = mask.accessor<bool, 2>();
  for (std::int64_t b = 0; b < rows; ++b) {
    const auto& seq = sequences[static_cast<std::size_t>(b)];
    const auto start = padding == Padding::Left ? cols - static_cast<std::int64_t>(seq.size()) : 0;
    for (std::size_t t = 0; t < seq.size(); ++t) {
      id[b][start + static_cast<std::int64_t>(t)] = seq[t];
      real[b][start + static_cast<std::int64_t>(t)] = true;
    }
  }
  return {ids.to(device), mask.to(device)};
}

}  // namespace relmoe
