#pragma once
// Cheap candidates for teacher labelling at scale: for each query, the items sharing the most
// character trigrams with it (lexically plausible, hence informative for the teacher to judge)
// plus random in-market items (easy negatives).
#include "io/item_list.hpp"
#include "io/pair.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace relmoe {

struct MiningOptions {
  int mined = 4;   // trigram-overlap candidates per query
  int random = 2;  // random items of the query's market per query
  std::uint64_t seed = 1;
  // Names this run's mined pairs "mined-<run>-<n>", so teacher scores of another run's candidates
  // cannot join these (distill-data sets it to a fingerprint of its inputs).
  std::string run = "0";
};

// For each (market, query) of `queries`, in first-seen order: its own pairs as they are, then up
// to `mined` items by cosine similarity of trigram sets (items already paired with the query are
// skipped; trigrams in more than 5 % of the items are ignored as uninformative), then up to
// `random` items drawn from those of the query's market (from all items when none has it). New pairs get
// ids "mined-<run>-<n>", the query's market and language, and no label.
std::vector<Pair> mine_candidates(const std::vector<Pair>& queries, const std::vector<Item>& items,
                                  const MiningOptions& options);

}  // namespace relmoe
