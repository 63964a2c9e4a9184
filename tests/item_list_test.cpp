// Item collections (`student index`, `distill-data`): bytes that are not UTF-8 are refused with
// the file and line, and one enormous line costs a bounded item, not gigabytes downstream.
#include "io/item_list.hpp"

#include "base/error.hpp"
#include "support.hpp"
#include "text/utf8.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <string>

namespace {

std::filesystem::path write_items(const std::string& name, const std::string& content) {
  const auto path = relmoe::test::scratch_dir() / name;
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

}  // namespace

TEST(ItemList, BytesThatAreNotUtf8AreRefusedNamingTheLine) {
  const auto path = write_items("bad_utf8.tsv", "item_id\ttitle\na\tred shoe\nb\tcaf\xC3(\n");
  try {
    relmoe::read_items(path);
    ADD_FAILURE() << "invalid UTF-8 was accepted";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find(path.string() + ":3"), std::string::npos) << e.what();
  }
}

TEST(ItemList, AHugeItemIsCutAtACharacterBoundary) {
  std::string huge;
  while (huge.size() < 10'000'000) huge += "\xC3\xA9t\xC3\xA9 ";  // "été ", two-byte characters
  const auto items = relmoe::read_items(write_items("huge.tsv", "item_id\ttitle\nbig\t" + huge + "\nsmall\tlamp\n"));
  ASSERT_EQ(items.size(), 2u);
  EXPECT_LE(items[0].text.size(), relmoe::kMaxItemBytes);
  EXPECT_GE(items[0].text.size(), relmoe::kMaxItemBytes - 3);
  EXPECT_EQ(relmoe::utf8::find_invalid(items[0].text), std::string::npos);
  EXPECT_EQ(huge.compare(0, items[0].text.size(), items[0].text), 0);
  EXPECT_EQ(items[1].text, "lamp");
}
