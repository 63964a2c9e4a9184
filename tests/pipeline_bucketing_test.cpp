// Micro-batch planning: coverage, the token budget, and what sorting saves in padding.
#include "pipeline/bucketing.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <random>

namespace {

std::vector<std::int64_t> random_lengths(std::size_t n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::vector<std::int64_t> lengths(n);
  for (auto& l : lengths) l = 5 + static_cast<std::int64_t>(rng() % 120);
  return lengths;
}

}  // namespace

TEST(PlanBatches, EveryIndexOnceAndWithinBudget) {
  const auto lengths = random_lengths(1000, 3);
  for (bool sorted : {true, false}) {
    const relmoe::BatchPlanOptions o{512, 16, sorted};
    const auto batches = relmoe::plan_batches(lengths, o);
    std::vector<int> seen(lengths.size(), 0);
    for (const auto& b : batches) {
      ASSERT_FALSE(b.empty());
      EXPECT_LE(static_cast<std::int64_t>(b.size()), o.max_batch);
      std::int64_t longest = 0;
      for (auto i : b) {
        ++seen[i];
        longest = std::max(longest, lengths[i]);
      }
      EXPECT_LE(longest * static_cast<std::int64_t>(b.size()), o.token_budget);
    }
    EXPECT_TRUE(std::all_of(seen.begin(), seen.end(), [](int c) { return c == 1; }));
  }
}

TEST(PlanBatches, OverlongSequenceGetsItsOwnBatch) {
  const auto batches = relmoe::plan_batches({3, 50, 4}, {20, 8, true});
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0], (std::vector<std::int64_t>{0, 2}));
  EXPECT_EQ(batches[1], (std::vector<std::int64_t>{1}));
}

TEST(Padding, SortingCutsPaddingOnAHandExample) {
  // Arrival order pairs each short prompt with a long one: 2x9 + 2x9 = 36 slots for 20 tokens.
  const std::vector<std::int64_t> lengths = {1, 9, 1, 9};
  auto arrival = relmoe::padding_of(relmoe::fixed_batches(lengths, 2, false), lengths);
  auto sorted = relmoe::padding_of(relmoe::fixed_batches(lengths, 2, true), lengths);
  EXPECT_EQ(arrival.real, 20);
  EXPECT_EQ(arrival.padded, 36);
  EXPECT_EQ(sorted.padded, 2 * 1 + 2 * 9);
  EXPECT_DOUBLE_EQ(sorted.fraction(), 0.0);
  EXPECT_NEAR(arrival.fraction(), 16.0 / 36.0, 1e-12);
}

TEST(Padding, SortedBatchesNeverPadMoreThanArrivalOrder) {
  for (std::uint32_t seed = 0; seed < 20; ++seed) {
    const auto lengths = random_lengths(257, seed);
    const auto arrival = relmoe::padding_of(relmoe::fixed_batches(lengths, 16, false), lengths);
    const auto sorted = relmoe::padding_of(relmoe::fixed_batches(lengths, 16, true), lengths);
    EXPECT_EQ(arrival.real, sorted.real);
    EXPECT_LE(sorted.padded, arrival.padded);
  }
}
