#pragma once
// Seeded random choices that give the same sequence on every platform and standard library:
// std::mt19937_64 is specified bit-exactly, but std:: distributions are not, so the few
// distributions needed here are written out.
#include <cstdint>
#include <random>
#include <vector>

namespace relmoe {

class Rng {
 public:
  explicit Rng(std::uint64_t seed) : engine_(seed) {}

  std::uint64_t bits() { return engine_(); }

  // Uniform integer in [0, n); n > 0. Multiply-shift (Lemire) without rejection: the bias is
  // below n / 2^64, irrelevant for the sizes used here.
  std::size_t below(std::size_t n) {
    return static_cast<std::size_t>((static_cast<unsigned __int128>(engine_()) * n) >> 64);
  }

  // Uniform double in [0, 1) from the top 53 bits.
  double uniform() { return static_cast<double>(engine_() >> 11) * 0x1.0p-53; }

  bool chance(double p) { return uniform() < p; }

  template <class T>
  const T& pick(const std::vector<T>& items) {
    return items[below(items.size())];
  }

  // A different index in [0, n) than `not_this` (n >= 2).
  std::size_t other_than(std::size_t not_this, std::size_t n) {
    std::size_t i = below(n - 1);
    return i >= not_this ? i + 1 : i;
  }

  template <class T>
  void shuffle(std::vector<T>& items) {
    for (std::size_t i = items.size(); i > 1; --i) std::swap(items[i - 1], items[below(i)]);
  }

 private:
  std::mt19937_64 engine_;
};

}  // namespace relmoe
