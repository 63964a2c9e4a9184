#pragma once
// `relmoe merge`: joins the outputs of the N shards of one scoring job into one file in input
// order, and proves it complete. The input is read again (path from the shard manifests, or
// given): each row must be the next row of the shard its id hashes to, or the next rejected
// row of the shard that reported it; every shard file must be used up exactly. A missing,
// unfinished, duplicated or foreign shard, a lost or extra row: an error naming it.
#include <filesystem>
#include <string>
#include <vector>

namespace relmoe {

struct MergeResult {
  std::int64_t rows = 0, rejected = 0;
};

// `shards`: the shard output files (their manifests lie beside them). `input`: empty to use
// the path recorded in the manifests. Writes `output` (and `output`.rejects when any row was
// rejected) atomically.
MergeResult merge_shards(const std::vector<std::filesystem::path>& shards, const std::filesystem::path& output,
                         const std::filesystem::path& input = {});

}  // namespace relmoe
