#pragma once
// Seconds of wall time for stage and phase timings, on the steady clock (never negative, whatever
// happens to the system clock).
#include <chrono>

namespace relmoe {

using SteadyClock = std::chrono::steady_clock;

inline double seconds_since(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

}  // namespace relmoe
