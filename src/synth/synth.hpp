#pragma once
// Synthetic multi-market relevance data. Six markets with distinct languages and scripts, whose
// notion of relevance differs, so experts with different strengths can complement each other:
//   syn-en  English     brand decides (same category + same brand; colour/size ignored)
//   syn-id  Indonesian  colour decides (same category + same colour; brand ignored)
//   syn-th  Thai        brand decides, but queries write brands in Thai transliteration and
//                       often without spaces, while titles use the Latin brand
//   syn-vi  Vietnamese  size decides (same category + same size); queries often lose diacritics
//   syn-ms  Malay       category only (hard negatives: sibling category, same brand and colour)
//   syn-fil Filipino    brand and colour both decide; Taglish code-switching, English titles
// Queries carry typos, abbreviations, code-switching and local words; each query gets relevant
// items, hard negatives (same category, wrong key attribute) and easy ones; labels are flipped
// with a given noise rate. Deterministic for a seed on every platform.
#include "io/pair.hpp"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace relmoe::synth {

struct MarketInfo {
  std::string name;  // e.g. "syn-th"
  std::string lang;  // ISO 639 code
  std::string rule;  // what decides relevance, in words
};

// The markets in generation order; `--markets N` uses the first N.
const std::vector<MarketInfo>& markets();

struct Options {
  int markets = 6;
  std::size_t pairs = 10000;       // labelled pairs over all splits
  std::uint64_t seed = 1;
  double label_noise = 0.05;       // probability of flipping a label
  double second_hand = 0.25;       // share of listings marked second-hand (irrelevant in some markets)
  double dev_fraction = 0.1;       // of queries
  double test_fraction = 0.1;
  std::size_t corpus_lines = 0;    // unlabelled lines; 0 means as many as pairs
};

struct Dataset {
  std::vector<Pair> train, dev, test;  // split by (market, query): no query in two splits
  std::vector<std::string> corpus;     // product titles and queries, unlabelled
};

// Throws relmoe::Error for invalid options (market count, fractions, noise).
Dataset generate(const Options& options);

// Writes DIR/train.tsv, dev.tsv, test.tsv and corpus.txt, each atomically.
void write_dataset(const Dataset& data, const std::filesystem::path& dir);

}  // namespace relmoe::synth
