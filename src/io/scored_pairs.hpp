#pragma once
// One variant's scores on a labelled test set, pair by pair, in test-file order: what the
// ablation grid keeps per variant (ablation/scores/<variant>.tsv) and the headline comparisons
// read back. TSV "id market label score" with a header; scores printed with 17 significant
// digits, so a round trip is exact.
#include <filesystem>
#include <string>
#include <vector>

namespace relmoe {

struct ScoredPairs {
  std::vector<std::string> ids, markets;
  std::vector<float> labels;
  std::vector<double> scores;
};

// Written atomically (io/durable_file.hpp).
void write_scored_pairs(const std::filesystem::path& path, const ScoredPairs& pairs);
// Errors name the file and line.
ScoredPairs read_scored_pairs(const std::filesystem::path& path);

}  // namespace relmoe
