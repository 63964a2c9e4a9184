#pragma once
// An item collection to index or mine candidates from: a TSV with a header naming the text column
// ("item", else "title") and optionally "item_id" (or "id") and "market". Without an id column an
// item's id is its text, so a pairs file (whose "id" names the pair and is not used) or a title
// corpus can be used as it is. Repeated ids keep the first.
#include <filesystem>
#include <string>
#include <vector>

namespace relmoe {

struct Item {
  std::string id, text, market;
};

// Errors name the file and line: a missing text column, an empty text.
std::vector<Item> read_items(const std::filesystem::path& path);

}  // namespace relmoe
