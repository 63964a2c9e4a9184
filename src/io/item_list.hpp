#pragma once
// An item collection to index or mine candidates from: a TSV with a header naming the text column
// ("item", else "title") and optionally "item_id" (or "id") and "market". Without an id column an
// item's id is its text, so a pairs file (whose "id" names the pair and is not used) or a title
// corpus can be used as it is. Repeated ids keep the first.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

namespace relmoe {

struct Item {
  std::string id, text, market;
};

// Item texts longer than this are cut to it (at a UTF-8 character boundary): far more than any
// encoder reads (a few hundred tokens), and it bounds what one line can cost downstream (mined
// candidates repeat an item's text once per query).
inline constexpr std::size_t kMaxItemBytes = 8192;

// Errors name the file and line: a missing text column, an empty text, bytes that are not UTF-8.
std::vector<Item> read_items(const std::filesystem::path& path);

}  // namespace relmoe
