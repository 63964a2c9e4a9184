#include "moe/router_features.hpp"

#include "text/char_ngrams.hpp"

namespace relmoe {

void hash_pair_features(std::string_view query, std::string_view item, const HashConfig& config,
                        std::vector<std::int64_t>& out) {
  thread_local std::vector<std::int32_t> cps;
  const auto buckets = static_cast<std::uint64_t>(config.buckets);
  const auto add = [&](std::uint64_t h) { out.push_back(static_cast<std::int64_t>(h % buckets)); };
  ngram_codepoints(query, config.max_chars, cps);
  for_each_ngram_hash(cps, 1, config.min_n, config.max_n, add);
  ngram_codepoints(item, config.max_chars, cps);
  for_each_ngram_hash(cps, 2, config.min_n, config.max_n, add);
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
