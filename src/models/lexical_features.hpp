#pragma once
// What the lexical expert sees of a pair: character 2-4-grams (text/char_ngrams) of the query and
// of the item (title + description), weighted by sublinear tf x idf and L2-normalised per field.
// For the linear model a sparse row over 2^hash_bits hashed features: query n-grams, item
// n-grams, the n-grams the two share, and the market. For fusion a few dense statistics (tf-idf
// cosine, idf-weighted coverage of the query by the item and of the item by the query, whether
// the whole query occurs in the item, field lengths) and a fixed-width signed sketch of the shared
// n-grams.
#include "io/pair.hpp"

#include <array>
#include <cstdint>
#include <vector>

namespace relmoe {

struct LexicalConfig {
  // What a saved config may hold at most (LexicalExpert::load refuses more).
  static constexpr int kMaxN = 16, kMaxChars = 1 << 20, kMaxSketch = 4096;

  int min_n = 2, max_n = 4;
  int hash_bits = 18;    // the linear model's feature space: 2^hash_bits weights
  int max_chars = 512;   // per field: bounds the cost of long descriptions
  int sketch = 32;       // width of the shared-n-gram sketch in the dense vector
  int folds = 5;         // cross-fitting folds over (market, query) groups
  int max_iter = 100;    // L-BFGS iterations per fit
  double l2 = 0;         // 0: 1 / training pairs (scikit-learn's C = 1)

  std::int64_t dim() const { return std::int64_t{1} << hash_bits; }
};

constexpr int kLexicalStats = 6;

// Inverse document frequency per n-gram bucket (2^hash_bits), over the fields of `pairs`
// (query, item text): log((1 + N) / (1 + df)) + 1. Uses no labels.
std::vector<float> fit_idf(const std::vector<const Pair*>& pairs, const LexicalConfig& config);

struct LexicalVector {
  std::vector<std::int32_t> index;  // sparse row for the linear model
  std::vector<float> value;
  std::array<float, kLexicalStats> stats{};
  std::vector<float> sketch;        // config.sketch values
};

LexicalVector lexical_vector(const Pair& pair, const std::vector<float>& idf, const LexicalConfig& config);

}  // namespace relmoe
