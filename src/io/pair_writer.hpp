#pragma once
// Pairs as the project's TSV: a header row, then every column of io/pair.hpp per pair.
#include "io/pair.hpp"

#include <filesystem>
#include <vector>

namespace relmoe {

// Written atomically (io/durable_file.hpp): no partial file is ever left under `path`. A field
// holding a tab or newline is an error naming the pair (TSV cannot carry it).
void write_pairs(const std::filesystem::path& path, const std::vector<Pair>& pairs);

}  // namespace relmoe
