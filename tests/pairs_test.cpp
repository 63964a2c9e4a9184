#include "io/pair_reader.hpp"
#include "io/pair_writer.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <fstream>

namespace {

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  auto path = relmoe::test::scratch_dir() / name;
  std::ofstream(path) << text;
  return path;
}

std::string error_of(const std::filesystem::path& path) {
  try {
    relmoe::read_pairs(path);
  } catch (const relmoe::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Pairs, ReadsRealSharedData) {
  RELMOE_REQUIRE_SHARED("data/relevance/dev.tsv");
  relmoe::PairStream stream(relmoe::test::shared_dir() / "data/relevance/dev.tsv");
  relmoe::Pair pair;
  std::size_t rows = 0, labelled = 0;
  while (stream.next(pair)) {
    ++rows;
    labelled += pair.label.has_value();
    EXPECT_FALSE(pair.market.empty());
  }
  EXPECT_GT(rows, 1000u);
  EXPECT_EQ(rows, labelled);
}

TEST(Pairs, RoundTripsThroughWriter) {
  std::vector<relmoe::Pair> pairs(2);
  pairs[0] = {"a1", "qc-de", "de", "rote schuhe", "Schuhe > Damen", "", 1.0f, std::nullopt, "synth"};
  pairs[1] = {"a2", "hd-en", "en", "drill", "Cordless drill", "18V", 0.0f, 2.33f, ""};
  auto path = relmoe::test::scratch_dir() / "relmoe_pairs_roundtrip.tsv";
  relmoe::write_pairs(path, pairs);
  auto back = relmoe::read_pairs(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back[0].query, "rote schuhe");
  EXPECT_EQ(back[1].item_desc, "18V");
  EXPECT_FLOAT_EQ(*back[1].grade, 2.33f);
  EXPECT_FALSE(back[0].grade.has_value());
  EXPECT_EQ(*back[0].label, 1.0f);
}

TEST(Pairs, ErrorsNameFileLineAndColumn) {
  auto bad_cols = write_file("relmoe_bad_cols.tsv", "id\tmarket\tquery\titem\nx\tm\tq\n");
  EXPECT_NE(error_of(bad_cols).find("relmoe_bad_cols.tsv:2: expected 4 tab"), std::string::npos) << error_of(bad_cols);
  auto bad_label = write_file("relmoe_bad_label.tsv", "id\tmarket\tquery\titem\tlabel\nx\tm\tq\ti\tyes\n");
  EXPECT_NE(error_of(bad_label).find(":2 field 'label'"), std::string::npos) << error_of(bad_label);
  auto no_item = write_file("relmoe_no_item.tsv", "id\tmarket\tquery\n");
  EXPECT_NE(error_of(no_item).find("header lacks column 'item'"), std::string::npos) << error_of(no_item);
  EXPECT_NE(error_of("/nonexistent/pairs.tsv").find("cannot open"), std::string::npos);
}
