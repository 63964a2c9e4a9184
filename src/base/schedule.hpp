#pragma once
// The learning-rate schedule of the trainers here: linear warm-up over the first 10 % of the
// steps (at most 100), then linear decay to 10 % of the base rate.
#include <algorithm>

namespace relmoe {

inline double warmup_linear_decay(long step, long total, double base) {
  const long warmup = std::max(1L, std::min(100L, total / 10));
  if (step < warmup) return base * static_cast<double>(step + 1) / static_cast<double>(warmup);
  const double progress = static_cast<double>(step - warmup) / static_cast<double>(std::max(1L, total - warmup));
  return base * (0.1 + 0.9 * (1.0 - progress));
}

}  // namespace relmoe
