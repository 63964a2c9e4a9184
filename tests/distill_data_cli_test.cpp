// `relmoe distill-data` on small files: mined candidate ids carry the run's fingerprint, and a
// candidates.tsv built from other inputs is refused instead of being reused.
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
