#include "io/item_list.hpp"

#include "base/error.hpp"
#include "base/split.hpp"
#include "text/utf8.hpp"

#include <spdlog/spdlog.h>

#include <fstream>
#include <unordered_set>

namespace relmoe {

std::vector<Item> read_items(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) fail(path.string(), "cannot open the item file");
  std::string line;
  if (!std::getline(in, line)) fail(path.string(), "is empty (expected a header naming an item or title column)");
  const auto header = split_fields(line, '\t');
  auto column = [&](std::initializer_list<const char*> names) -> std::ptrdiff_t {
    for (const char* name : names)
      for (std::size_t i = 0; i < header.size(); ++i)
        if (header[i] == name) return static_cast<std::ptrdiff_t>(i);
    return -1;
  };
  // In a pairs file "id" names the pair, not the item: its items are keyed by text.
  const bool pairs_file = column({"query"}) >= 0;
  const auto text_col = column({"item", "title"}), market_col = column({"market"});
  const auto id_col = pairs_file ? column({"item_id"}) : column({"item_id", "id"});
  if (text_col < 0) fail(path.string() + ":1", "the header names no 'item' or 'title' column");
  std::vector<Item> items;
  std::unordered_set<std::string> seen;
  std::size_t cut = 0;
  for (std::size_t number = 2; std::getline(in, line); ++number) {
    if (line.empty()) continue;
    const auto where = path.string() + ":" + std::to_string(number);
    utf8::require_valid(line, where);
    const auto fields = split_fields(line, '\t');
    auto field = [&](std::ptrdiff_t col) {
      return col >= 0 && static_cast<std::size_t>(col) < fields.size() ? fields[static_cast<std::size_t>(col)] : "";
    };
    Item item{field(id_col), field(text_col), field(market_col)};
    if (item.text.empty()) fail(where, "the item text is empty");
    if (item.text.size() > kMaxItemBytes) {
      item.text.resize(utf8::prefix(item.text, kMaxItemBytes).size());
      ++cut;
    }
    if (item.id.empty()) item.id = item.text;
    if (seen.insert(item.id).second) items.push_back(std::move(item));
  }
  if (cut) spdlog::warn("{}: {} item texts longer than {} bytes were cut to it", path.string(), cut, kMaxItemBytes);
  return items;
}

}  // namespace relmoe
