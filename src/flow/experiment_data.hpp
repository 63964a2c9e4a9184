#pragma once
// The data stage of `relmoe experiment`: user pairs (TSV/CSV/JSONL, any column names) brought
// into a run directory as the project's TSV schema, plus the pre-training corpus.
#include "io/pair_reader.hpp"
#include "flow/run_layout.hpp"

#include <cstdint>
#include <filesystem>
#include <vector>

namespace relmoe {

struct ExperimentData {
  std::filesystem::path train, dev, test;  // dev optional: then split off train by query
  std::vector<std::filesystem::path> corpus;  // text files: a TSV with a "title" column, else one text per line
  ColumnMapping columns;
  PairFormat format = PairFormat::Auto;
  double dev_fraction = 0.1;  // of train's (market, query) groups, when no dev file is given
  std::size_t max_pairs = 0;  // > 0: a seeded random subset of at most this many pairs per split
  std::uint64_t seed = 1;
};

// Writes the layout's train.tsv, dev.tsv, test.tsv and corpus.txt (the corpus files' texts, then
// the distinct train queries and items). Every pair must carry a label; ids must be unique over
// the three files. Errors name the file and the pair.
void prepare_experiment_data(const ExperimentData& data, const RunLayout& layout);

}  // namespace relmoe
