#pragma once
// Router input features that work across scripts: hashed, lower-cased UTF-8 codepoint n-grams
// of the query and of the item text (in separate hash spaces), computed once per pair and kept
// as a sparse bag (CSR) for an EmbeddingBag.
#include <torch/types.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace relmoe {

struct HashConfig {
  std::int64_t buckets = 1 << 15;
  int min_n = 1;
  int max_n = 3;
  int max_chars = 256;  // per field; bounds the cost of long item descriptions
};

// Appends the bucket ids of every n-gram of `query` and `item` to `out`.
void hash_pair_features(std::string_view query, std::string_view item, const HashConfig& config,
                        std::vector<std::int64_t>& out);

// Sparse bags of many pairs: bag i is ids[offsets[i] .. offsets[i+1]).
struct FeatureBags {
  std::vector<std::int64_t> ids;
  std::vector<std::int64_t> offsets{0};

  std::size_t size() const { return offsets.size() - 1; }
  void add(std::string_view query, std::string_view item, const HashConfig& config);
  // EmbeddingBag inputs (flat ids, start offsets) for the bags at `positions`.
  std::pair<torch::Tensor, torch::Tensor> gather(const std::vector<std::int64_t>& positions) const;
};

}  // namespace relmoe
