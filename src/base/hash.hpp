#pragma once
// A fixed, portable 64-bit hash of bytes (FNV-1a with a splitmix64 finaliser). Used where the
// value must never change between platforms or releases: shard assignment by pair id, cache
// keys on disk. Not cryptographic.
#include <cstdint>
#include <string_view>

namespace relmoe {

// The hash fed in pieces: updating with a, then b, gives hash64 of a followed by b.
class Hash64Stream {
 public:
  explicit constexpr Hash64Stream(std::uint64_t seed = 0) : h_(0xcbf29ce484222325ULL ^ seed) {}  // FNV-1a 64 offset basis

  constexpr void update(std::string_view bytes) {
    for (char c : bytes) {
      h_ ^= static_cast<unsigned char>(c);
      h_ *= 0x100000001b3ULL;  // FNV prime
    }
  }

  // splitmix64 finaliser: FNV's low bits are weak for short, similar inputs.
  constexpr std::uint64_t value() const {
    std::uint64_t h = h_;
    h ^= h >> 30;
    h *= 0xbf58476d1ce4e5b9ULL;
    h ^= h >> 27;
    h *= 0x94d049bb133111ebULL;
    h ^= h >> 31;
    return h;
  }

 private:
  std::uint64_t h_;
};

constexpr std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0) {
  Hash64Stream stream(seed);
  stream.update(bytes);
  return stream.value();
}

}  // namespace relmoe
