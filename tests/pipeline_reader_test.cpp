// Streaming pairs: same rows as the whole-file reader, continuing from a saved position, and
// malformed rows reported with their line numbers without losing the rest of the file.
#include "base/error.hpp"
#include "io/pair_reader.hpp"
#include "pipeline/chunk_reader.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace {

std::filesystem::path write_file(const std::string& name, const std::string& text) {
  const auto path = relmoe::test::scratch_dir() / name;
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const std::string kGood =
    "id\tmarket\tquery\titem\n"
    "a\tm\tred shoe\tRed Shoe 42\n"
    "\n"
    "b\tm\tgiày\tGiày đen\r\n"
    "c\tn\tq3\titem three\n"
    "d\tn\tq4\titem four";  // no final newline

}  // namespace

TEST(PairStream, MatchesWholeFileReaderAndResumesFromAPosition) {
  const auto path = write_file("relmoe_stream_good.tsv", kGood);
  const auto all = relmoe::read_pairs(path);
  ASSERT_EQ(all.size(), 4u);
  relmoe::PairStream stream(path);
  relmoe::Pair p;
  ASSERT_TRUE(stream.next(p));
  ASSERT_TRUE(stream.next(p));
  EXPECT_EQ(p.id, "b");
  EXPECT_EQ(stream.line(), 4u);
  const auto at = stream.position();

  relmoe::PairStream resumed(path);
  resumed.seek(at);
  std::vector<std::string> rest;
  while (resumed.next(p)) rest.push_back(p.id + ":" + p.item + ":" + std::to_string(resumed.line()));
  EXPECT_EQ(rest, (std::vector<std::string>{"c:item three:5", "d:item four:6"}));
}

TEST(PairStream, JsonlPositionsToo) {
  const auto path = write_file("relmoe_stream.jsonl",
                               "{\"id\": \"x\", \"query\": \"q\", \"item\": \"i\"}\n\n"
                               "{\"id\": \"y\", \"query\": \"q2\", \"item\": \"i2\"}\n");
  relmoe::PairStream stream(path);
  relmoe::Pair p;
  ASSERT_TRUE(stream.next(p));
  relmoe::PairStream resumed(path);
  resumed.seek(stream.position());
  ASSERT_TRUE(resumed.next(p));
  EXPECT_EQ(p.id, "y");
  EXPECT_EQ(resumed.line(), 3u);
  EXPECT_FALSE(resumed.next(p));
}

TEST(ChunkReader, MalformedRowsNameTheirLinesAndAreSkippedOnlyWhenAsked) {
  const auto path = write_file("relmoe_stream_bad.tsv",
                               "id\tmarket\tquery\titem\n"
                               "a\tm\tq\ti\n"
                               "b\tm\tq\n"                 // missing column
                               "c\tm\tbad \xff byte\ti\n"  // invalid UTF-8
                               "d\tm\t\ti\n"               // empty query
                               "e\tm\tq\ti\n");
  relmoe::Chunk chunk;
  relmoe::ChunkReader strict(path, {}, relmoe::PairFormat::Auto, {}, 100, false);
  try {
    strict.next(chunk);
    ADD_FAILURE() << "no error";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("relmoe_stream_bad.tsv:3"), std::string::npos) << e.what();
  }

  relmoe::ChunkReader lenient(path, {}, relmoe::PairFormat::Auto, {}, 100, true);
  ASSERT_TRUE(lenient.next(chunk));
  ASSERT_EQ(chunk.pairs.size(), 2u);
  EXPECT_EQ(chunk.pairs[0].id, "a");
  EXPECT_EQ(chunk.pairs[1].id, "e");
  EXPECT_EQ(chunk.lines, (std::vector<std::size_t>{2, 6}));
  ASSERT_EQ(chunk.rejected.size(), 3u);
  EXPECT_EQ(chunk.rejected[0].line, 3u);
  EXPECT_NE(chunk.rejected[0].reason.find("columns"), std::string::npos) << chunk.rejected[0].reason;
  EXPECT_EQ(chunk.rejected[1].line, 4u);
  EXPECT_NE(chunk.rejected[1].reason.find("UTF-8"), std::string::npos) << chunk.rejected[1].reason;
  EXPECT_EQ(chunk.rejected[2].line, 5u);
  EXPECT_NE(chunk.rejected[2].reason.find("query"), std::string::npos) << chunk.rejected[2].reason;
  EXPECT_FALSE(lenient.next(chunk));
}

TEST(ChunkReader, ShardsPartitionTheRowsAndChunksAreBounded) {
  std::string text = "id\tmarket\tquery\titem\n";
  for (int i = 0; i < 100; ++i) text += "id" + std::to_string(i) + "\tm\tq\ti\n";
  const auto path = write_file("relmoe_stream_shards.tsv", text);
  std::vector<int> seen(100, 0);
  for (int s = 0; s < 3; ++s) {
    relmoe::ChunkReader reader(path, {}, relmoe::PairFormat::Auto, {s, 3}, 7, false);
    relmoe::Chunk chunk;
    while (reader.next(chunk)) {
      EXPECT_LE(chunk.pairs.size(), 7u);
      for (const auto& p : chunk.pairs) {
        EXPECT_EQ(relmoe::shard_of(p.id, 3), s);
        ++seen[std::stoi(p.id.substr(2))];
      }
    }
  }
  for (int c : seen) EXPECT_EQ(c, 1);
}
