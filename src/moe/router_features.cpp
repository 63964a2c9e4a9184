#include "moe/router_features.hpp"

#include <utf8proc.h>

#include <array>

namespace relmoe {

namespace {

// Lower-cased codepoints of `text` with a boundary marker (U+0002) at both ends, so n-grams
// also encode word-initial and final characters of the whole field. Invalid bytes are skipped.
void codepoints(std::string_view text, int max_chars, std::vector<std::int32_t>& out) {
  out.clear();
  out.push_back(2);
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(text.data());
  utf8proc_ssize_t left = static_cast<utf8proc_ssize_t>(text.size());
  while (left > 0 && static_cast<int>(out.size()) <= max_chars) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate(p, left, &cp);
    if (n <= 0) {
      n = 1;
    } else {
      out.push_back(cp < 128 ? (cp >= 'A' && cp <= 'Z' ? cp + 32 : cp) : utf8proc_tolower(cp));
    }
    p += n;
    left -= n;
  }
  out.push_back(2);
}

// FNV-1a over the n codepoints, seeded per field and n so the spaces do not collide by design.
void hash_ngrams(const std::vector<std::int32_t>& cps, std::uint64_t field, const HashConfig& c,
                 std::vector<std::int64_t>& out) {
  const auto buckets = static_cast<std::uint64_t>(c.buckets);
  for (int n = c.min_n; n <= c.max_n; ++n) {
    const std::uint64_t seed = 1469598103934665603ull ^ (field * 0x9E3779B97F4A7C15ull) ^ static_cast<std::uint64_t>(n);
    for (std::size_t i = 0; i + static_cast<std::size_t>(n) <= cps.size(); ++i) {
      std::uint64_t h = seed;
      for (int j = 0; j < n; ++j) {
        h ^= static_cast<std::uint32_t>(cps[i + static_cast<std::size_t>(j)]);
        h *= 1099511628211ull;
      }
      h ^= h >> 29;  // FNV's low bits mix poorly; fold the high bits in before the modulo
      out.push_back(static_cast<std::int64_t>(h % buckets));
    }
  }
}

}  // namespace

void hash_pair_features(std::string_view query, std::string_view item, const HashConfig& config,
                        std::vector<std::int64_t>& out) {
  thread_local std::vector<std::int32_t> cps;
  codepoints(query, config.max_chars, cps);
  hash_ngrams(cps, 1, config, out);
  codepoints(item, config.max_chars, cps);
  hash_ngrams(cps, 2, config, out);
}

void FeatureBags::add(std::string_view query, std::string_view item, const HashConfig& config) {
  hash_pair_features(query, item, config, ids);
  offsets.push_back(static_cast<std::int64_t>(ids.size()));
}

std::pair<torch::Tensor, torch::Tensor> FeatureBags::gather(const std::vector<std::int64_t>& positions) const {
  std::int64_t total = 0;
  for (auto p : positions) total += offsets[p + 1] - offsets[p];
  auto flat = torch::empty({total}, torch::kLong);
  auto starts = torch::empty({static_cast<std::int64_t>(positions.size())}, torch::kLong);
  auto* f = flat.data_ptr<std::int64_t>();
  auto* s = starts.data_ptr<std::int64_t>();
  std::int64_t at = 0;
  for (std::size_t i = 0; i < positions.size(); ++i) {
    s[i] = at;
    const auto p = positions[i];
    for (auto j = offsets[p]; j < offsets[p + 1]; ++j) f[at++] = ids[j];
  }
  return {flat, starts};
}

}  // namespace relmoe
