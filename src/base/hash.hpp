#pragma once
// A fixed, portable 64-bit hash of bytes (FNV-1a with a splitmix64 finaliser). Used where the
// value must never change between platforms or releases: shard assignment by pair id, cache
// keys on disk. Not cryptographic.
#include <cstdint>
#include <string_view>

namespace relmoe {

constexpr std::uint64_t hash64(std::string_view bytes, std::uint64_t seed = 0) {
  std::uint64_t h = 0xcbf29ce484222325ULL ^ seed;  // FNV-1a 64 offset basis
  for (char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ULL;  // FNV prime
  }
  // splitmix64 finaliser: FNV's low bits are weak for short, similar inputs.
  h ^= h >> 30;
  h *= 0xbf58476d1ce4e5b9ULL;
  h ^= h >> 27;
  h *= 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return h;
}

}  // namespace relmoe
