#pragma once
// Cutting one expert's queue of prompts into micro-batches. Sequences are sorted by length
// (the finest length buckets) and cut greedily so a batch's padded size, longest x count,
// stays within a token budget: short prompts travel in large batches, long ones in small,
// and little compute goes to padding. Arrival order (no sorting) is kept for comparison.
#include <cstdint>
#include <vector>

namespace relmoe {

struct BatchPlanOptions {
  std::int64_t token_budget = 4096;  // max padded tokens (longest x count) per batch
  std::int64_t max_batch = 256;      // max sequences per batch
  bool sort_by_length = true;        // false: arrival order, cut by the same rules
};

struct PaddingStats {
  std::int64_t real = 0;    // tokens of the sequences
  std::int64_t padded = 0;  // slots computed: sum over batches of longest x count
  std::int64_t batches = 0;
  double fraction() const { return padded > 0 ? 1.0 - static_cast<double>(real) / static_cast<double>(padded) : 0.0; }
  PaddingStats& operator+=(const PaddingStats& o);
};

// Errors name the option at fault (--token-budget, --max-batch).
void check_batch_plan(const BatchPlanOptions& options);

// Batches of indices into `lengths`; every index appears in exactly one batch. A sequence
// longer than the budget forms a batch of its own.
std::vector<std::vector<std::int64_t>> plan_batches(const std::vector<std::int64_t>& lengths,
                                                    const BatchPlanOptions& options);

// Fixed-size batches of `batch` consecutive sequences (optionally sorted by length first).
std::vector<std::vector<std::int64_t>> fixed_batches(const std::vector<std::int64_t>& lengths,
                                                     std::int64_t batch, bool sort_by_length);

PaddingStats padding_of(const std::vector<std::vector<std::int64_t>>& batches,
                        const std::vector<std::int64_t>& lengths);

}  // namespace relmoe
