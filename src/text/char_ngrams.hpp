#pragma once
// Character n-grams that work across scripts: a field's lower-cased UTF-8 codepoints between
// boundary markers, every n-gram hashed (FNV-1a over the codepoints, seeded by a hash space and
// n, high bits folded in). The router's features and the lexical expert share them.
#include <cstdint>
#include <string_view>
#include <vector>

namespace relmoe {

// Lower-cased codepoints of `text` with a boundary marker (U+0002) at both ends, so n-grams also
// encode word-initial and final characters of the whole field; at most `max_chars` codepoints
// of the text. Invalid bytes are skipped.
void ngram_codepoints(std::string_view text, int max_chars, std::vector<std::int32_t>& out);

// The hash of every n-gram of `cps` for n in [min_n, max_n], in `space` (hash spaces do not
// collide by design): emit(hash) per n-gram.
template <class Emit>
void for_each_ngram_hash(const std::vector<std::int32_t>& cps, std::uint64_t space, int min_n, int max_n, Emit&& emit) {
  for (int n = min_n; n <= max_n; ++n) {
    const std::uint64_t seed = 1469598103934665603ull ^ (space * 0x9E3779B97F4A7C15ull) ^ static_cast<std::uint64_t>(n);
    for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= cps.size(); ++i) {
      std::uint64_t h = seed;
      for (int j = 0; j < n; ++j) {
        h ^= static_cast<std::uint32_t>(cps[i + static_cast<std::size_t>(j)]);
        h *= 1099511628211ull;
      }
      h ^= h >> 29;  // FNV's low bits mix poorly; fold the high bits in before any modulo
      emit(h);
    }
  }
}

}  // namespace relmoe
