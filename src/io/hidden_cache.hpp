#pragma once
// Optional on-disk cache of one expert's hidden states, keyed by the prompt text the expert
// sees: a pair whose prompt was computed before (a repeated query-item pair, a rerun over
// overlapping data) skips the expert.
//   DIR/<expert>.json   what the cache belongs to: width, a fingerprint of the expert's files
//                       (names, sizes, mtimes) and how it was run (dtype, prompt cut); a
//                       mismatch is an error
//   DIR/<expert>.cache  fixed-size records: key (two independent 64-bit hashes of the prompt),
//                       width f32 values, 64-bit check hash of those values
// Records are appended without fsync: a lost or torn record (cut off on open, or failing its
// check) only costs a recomputation. One HiddenCache per expert lane (not thread-safe).
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <unordered_map>

namespace relmoe {

class HiddenCache {
 public:
  struct Key {
    std::uint64_t a = 0, b = 0;
    bool operator==(const Key&) const = default;
  };
  static Key key_of(std::string_view prompt);

  // `expert_dir` is the checkpoint directory or GGUF file; `run` says how its hidden states
  // are computed (another run dtype or prompt cut gives other rows).
  HiddenCache(const std::filesystem::path& dir, const std::string& expert,
              const std::filesystem::path& expert_dir, std::int64_t width, const std::string& run);
  ~HiddenCache();
  HiddenCache(const HiddenCache&) = delete;
  HiddenCache& operator=(const HiddenCache&) = delete;

  // Copies the cached row into `out` (width floats); false when absent or damaged.
  bool lookup(const Key& key, float* out) const;
  void insert(const Key& key, const float* row);

 private:
  struct KeyHash {
    std::size_t operator()(const Key& k) const { return static_cast<std::size_t>(k.a); }
  };
  std::filesystem::path path_;
  std::int64_t width_;
  std::size_t record_bytes_;
  int fd_ = -1;
  std::int64_t end_ = 0;
  std::unordered_map<Key, std::int64_t, KeyHash> index_;  // key -> record offset
};

}  // namespace relmoe
