#include "models/lexical_features.hpp"

#include "base/hash.hpp"
#include "text/char_ngrams.hpp"

#include <algorithm>
#include <cmath>

namespace relmoe {
namespace {

constexpr std::uint64_t kNgramSpace = 10;

// A feature index of n-gram `h` in the linear model's namespace `space` (query, item, shared, market).
std::int32_t feature(std::uint64_t h, std::uint64_t space, std::int64_t dim) {
  h ^= space * 0xD6E8FEB86659FD93ull;
  h *= 0x9E3779B97F4A7C15ull;
  h ^= h >> 32;
  return static_cast<std::int32_t>(h & static_cast<std::uint64_t>(dim - 1));
}

std::string item_text(const Pair& p) { return p.item_desc.empty() ? p.item : p.item + " " + p.item_desc; }

struct Field {
  std::vector<std::int32_t> cps;
  std::vector<std::uint64_t> grams;  // distinct n-gram hashes, sorted
  std::vector<float> weight;         // tf-idf, L2-normalised, per gram
  double idf_mass = 0;               // sum of idf over distinct grams
};

Field field_of(std::string_view text, const std::vector<float>& idf, const LexicalConfig& c) {
  Field f;
  ngram_codepoints(text, c.max_chars, f.cps);
  std::vector<std::uint64_t> all;
  for_each_ngram_hash(f.cps, kNgramSpace, c.min_n, c.max_n, [&](std::uint64_t h) { all.push_back(h); });
  std::sort(all.begin(), all.end());
  double norm = 0;
  for (std::size_t i = 0; i < all.size();) {
    std::size_t j = i;
    while (j < all.size() && all[j] == all[i]) ++j;
    const double w = (1.0 + std::log(static_cast<double>(j - i))) * idf[all[i] & static_cast<std::uint64_t>(c.dim() - 1)];
    f.grams.push_back(all[i]);
    f.weight.push_back(static_cast<float>(w));
    f.idf_mass += idf[all[i] & static_cast<std::uint64_t>(c.dim() - 1)];
    norm += w * w;
    i = j;
  }
  const float scale = norm > 0 ? static_cast<float>(1.0 / std::sqrt(norm)) : 0.0f;
  for (auto& w : f.weight) w *= scale;
  return f;
}

// Whether the query's codepoints (without the field markers) occur in the item's.
bool contains(const Field& item, const Field& query) {
  if (query.cps.size() <= 2) return false;
  return std::search(item.cps.begin(), item.cps.end(), query.cps.begin() + 1, query.cps.end() - 1) != item.cps.end();
}

}  // namespace

std::vector<float> fit_idf(const std::vector<const Pair*>& pairs, const LexicalConfig& c) {
  std::vector<std::uint32_t> df(static_cast<std::size_t>(c.dim()), 0);
  std::vector<std::int32_t> cps;
  std::vector<std::uint64_t> buckets;
  std::size_t docs = 0;
  for (const Pair* p : pairs)
    for (const std::string& text : {p->query, item_text(*p)}) {
      ngram_codepoints(text, c.max_chars, cps);
      buckets.clear();
      for_each_ngram_hash(cps, kNgramSpace, c.min_n, c.max_n,
                          [&](std::uint64_t h) { buckets.push_back(h & static_cast<std::uint64_t>(c.dim() - 1)); });
      std::sort(buckets.begin(), buckets.end());
      buckets.erase(std::unique(buckets.begin(), buckets.end()), buckets.end());
      for (const auto b : buckets) ++df[b];
      ++docs;
    }
  std::vector<float> idf(df.size());
  for (std::size_t b = 0; b < df.size(); ++b)
    idf[b] = static_cast<float>(std::log((1.0 + static_cast<double>(docs)) / (1.0 + df[b])) + 1.0);
  return idf;
}

LexicalVector lexical_vector(const Pair& pair, const std::vector<float>& idf, const LexicalConfig& c) {
  const Field q = field_of(pair.query, idf, c), d = field_of(item_text(pair), idf, c);
  LexicalVector v;
  v.sketch.assign(static_cast<std::size_t>(c.sketch), 0.0f);
  const auto dim = c.dim();
  for (std::size_t i = 0; i < q.grams.size(); ++i) {
    v.index.push_back(feature(q.grams[i], 1, dim));
    v.value.push_back(q.weight[i]);
  }
  for (std::size_t i = 0; i < d.grams.size(); ++i) {
    v.index.push_back(feature(d.grams[i], 2, dim));
    v.value.push_back(d.weight[i]);
  }
  // Shared n-grams: both sorted, one merge.
  double cosine = 0, shared_idf = 0, shared_norm = 0;
  std::vector<std::pair<std::uint64_t, float>> shared;
  for (std::size_t i = 0, j = 0; i < q.grams.size() && j < d.grams.size();) {
    if (q.grams[i] < d.grams[j]) {
      ++i;
    } else if (d.grams[j] < q.grams[i]) {
      ++j;
    } else {
      const float w = idf[q.grams[i] & static_cast<std::uint64_t>(dim - 1)];
      cosine += static_cast<double>(q.weight[i]) * d.weight[j];
      shared_idf += w;
      shared_norm += static_cast<double>(w) * w;
      shared.emplace_back(q.grams[i], w);
      ++i, ++j;
    }
  }
  const float scale = shared_norm > 0 ? static_cast<float>(1.0 / std::sqrt(shared_norm)) : 0.0f;
  for (const auto& [g, w] : shared) {
    v.index.push_back(feature(g, 3, dim));
    v.value.push_back(w * scale);
    const auto h = feature(g, 5, std::int64_t{1} << 30);
    v.sketch[static_cast<std::size_t>(h % c.sketch)] += (h & (1 << 20)) ? w * scale : -w * scale;
  }
  v.index.push_back(feature(hash64(pair.market), 4, dim));
  v.value.push_back(1.0f);
  v.stats = {static_cast<float>(cosine),
             q.idf_mass > 0 ? static_cast<float>(shared_idf / q.idf_mass) : 0.0f,
             d.idf_mass > 0 ? static_cast<float>(shared_idf / d.idf_mass) : 0.0f,
             contains(d, q) ? 1.0f : 0.0f,
             static_cast<float>(std::log1p(static_cast<double>(q.cps.size())) / 5.0),
             static_cast<float>(std::log1p(static_cast<double>(d.cps.size())) / 5.0)};
  return v;
}

}  // namespace relmoe
