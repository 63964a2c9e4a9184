// `relmoe distill-data` on small files: mined candidate ids carry the run's fingerprint, a
// candidates.tsv built from other inputs is refused instead of being reused, and the teacher's
// scores come in shards that `relmoe merge` joins into the unsharded run's.
#include "pipeline_support.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <string>

namespace {

namespace fs = std::filesystem;

void write(const fs::path& path, const std::string& content) { std::ofstream(path, std::ios::binary) << content; }

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

}  // namespace

TEST(DistillDataCli, MinedIdsNameTheRunAndOtherInputsAreRefused) {
  const auto dir = relmoe::test::scratch_dir() / "distill";
  fs::create_directories(dir);
  write(dir / "queries.tsv",
        "id\tmarket\tlang\tquery\titem\tlabel\n"
        "q1\tus\ten\tred shoes\tred running shoes\t1\n"
        "q2\tus\ten\tdesk lamp\tgreen table\t0\n");
  std::string items = "item_id\ttitle\tmarket\n";
  for (int i = 0; i < 20; ++i) items += "i" + std::to_string(i) + "\tred shoe lamp model " + std::to_string(i) + "\tus\n";
  write(dir / "items.tsv", items);
  write(dir / "other_items.tsv", items + "i20\tblue desk lamp\tus\n");
  const auto run = [&](const std::string& items_file, const std::string& out) {
    return relmoe::test::run_command(relmoe::test::binary().string() + " distill-data --queries " +
                                     (dir / "queries.tsv").string() + " --items " + (dir / items_file).string() +
                                     " --out " + (dir / out).string());
  };
  auto first = run("items.tsv", "a");
  ASSERT_EQ(first.status, 0) << first.output;
  const auto candidates = read(dir / "a/candidates.tsv");
  std::smatch id;
  ASSERT_TRUE(std::regex_search(candidates, id, std::regex("\nmined-([0-9a-f]{8})-0\t"))) << candidates;
  // The same inputs again keep the file; other inputs get other ids, and are refused in `a`.
  auto again = run("items.tsv", "a");
  EXPECT_EQ(again.status, 0) << again.output;
  EXPECT_EQ(read(dir / "a/candidates.tsv"), candidates);
  auto other = run("other_items.tsv", "b");
  ASSERT_EQ(other.status, 0) << other.output;
  EXPECT_EQ(read(dir / "b/candidates.tsv").find("mined-" + id[1].str() + "-"), std::string::npos);
  auto refused = run("other_items.tsv", "a");
  EXPECT_NE(refused.status, 0);
  EXPECT_NE(refused.output.find("candidates.tsv: was built from other inputs"), std::string::npos) << refused.output;
}

TEST(DistillDataCli, TeacherScoresInShardsMergeIntoTheUnshardedRun) {
  const auto dir = relmoe::test::scratch_dir() / "distill-shards";
  fs::remove_all(dir);
  fs::create_directories(dir);
  const auto market = relmoe::test::tiny_markets()[0];
  std::string queries = "id\tmarket\tlang\tquery\titem\tlabel\n", items = "item_id\ttitle\tmarket\n";
  for (int q = 0; q < 6; ++q)
    queries += "q" + std::to_string(q) + "\t" + market + "\ten\tred shoe " + std::to_string(q) + "\tred shoe\t1\n";
  for (int i = 0; i < 30; ++i) items += "i" + std::to_string(i) + "\tred shoe lamp " + std::to_string(i) + "\t" + market + "\n";
  write(dir / "queries.tsv", queries);
  write(dir / "items.tsv", items);
  const auto moe = relmoe::test::make_tiny_moe("distill_shards", relmoe::Routing::hard);
  const auto run = [&](const std::string& out, const std::string& flags) {
    return relmoe::test::run_command(relmoe::test::binary().string() + " distill-data --queries " +
                                     (dir / "queries.tsv").string() + " --items " + (dir / "items.tsv").string() +
                                     " --model " + moe.model.string() + " --quiet --threads 1 --out " +
                                     (dir / out).string() + " " + flags);
  };
  auto whole = run("whole", "");
  ASSERT_EQ(whole.status, 0) << whole.output;
  for (const char* shard : {"0/2", "1/2"}) {
    auto part = run("sharded", std::string("--shard ") + shard);
    ASSERT_EQ(part.status, 0) << part.output;
  }
  EXPECT_TRUE(fs::exists(dir / "sharded/teacher.shard-0-of-2.tsv"));
  EXPECT_FALSE(fs::exists(dir / "sharded/teacher.tsv"));
  const auto merged = relmoe::test::run_command(
      relmoe::test::binary().string() + " merge " + (dir / "sharded/teacher.shard-0-of-2.tsv").string() + " " +
      (dir / "sharded/teacher.shard-1-of-2.tsv").string() + " --output " + (dir / "sharded/teacher.tsv").string());
  ASSERT_EQ(merged.status, 0) << merged.output;
  const auto want = relmoe::test::read_scores(dir / "whole/teacher.tsv");
  const auto got = relmoe::test::read_scores(dir / "sharded/teacher.tsv");
  ASSERT_EQ(got.size(), want.size());
  ASSERT_GT(want.size(), 6u);  // own pairs and mined ones
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first);
    // Batches differ between the runs: f32 rounding, far below any teacher-score difference.
    EXPECT_NEAR(std::stod(got[i].second), std::stod(want[i].second), 1e-5) << want[i].first;
  }
}
