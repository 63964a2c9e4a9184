// Crash-safe writes (io/durable_file): a file or directory appears under its name only when
// complete, an abandoned write leaves nothing behind, and no temp name survives.
#include "io/durable_file.hpp"

#include "base/error.hpp"

#include "support.hpp"
#include "text/read_file.hpp"

#include <fstream>

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  const auto dir = relmoe::test::scratch_dir() / name;
  fs::remove_all(dir);
  fs::create_directories(dir);
  return dir;
}

// Every entry of `dir`, sorted: "a", "b/", "b/c".
std::vector<std::string> listing(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    out.push_back(fs::relative(e.path(), dir).string() + (e.is_directory() ? "/" : ""));
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

TEST(AtomicWriter, AppearsOnlyOnCommitAndReplacesTheOldFile) {
  const auto dir = fresh_dir("atomic_commit");
  const auto path = dir / "out.txt";
  std::ofstream(path) << "old";
  {
    relmoe::AtomicWriter w(path);
    w.stream() << "new ";
    w.write("text", 4);
    EXPECT_EQ(relmoe::read_file(path), "old");  // not yet
    EXPECT_EQ(listing(dir).size(), 2u);         // out.txt and the temp file
    w.commit();
  }
  EXPECT_EQ(relmoe::read_file(path), "new text");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"out.txt"});
}

TEST(AtomicWriter, AnAbandonedWriteLeavesNothing) {
  const auto dir = fresh_dir("atomic_abandon");
  try {
    relmoe::AtomicWriter w(dir / "scores.tsv");
    w.stream() << "id\tscore\n";
    throw std::runtime_error("interrupted");
  } catch (const std::runtime_error&) {
  }
  EXPECT_TRUE(listing(dir).empty());
  relmoe::write_atomically(dir / "x.json", "{}\n");
  EXPECT_EQ(listing(dir), std::vector<std::string>{"x.json"});
}

TEST(AtomicWriter, AnUnwritableDirectoryIsAnErrorNamingTheFile) {
  try {
    relmoe::write_atomically("/nonexistent/dir/out.json", "{}");
    FAIL() << "expected an error";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("/nonexistent/dir/out.json"), std::string::npos) << e.what();
  }
}

TEST(StagingDirectory, PublishReplacesTheDirectoryWhole) {
  const auto root = fresh_dir("staging_publish");
  fs::create_directories(root / "step");
  std::ofstream(root / "step" / "stale") << "x";
  {
    relmoe::StagingDirectory staging(root / "step");
    relmoe::write_atomically(staging.path() / "state.json", "{}");
    EXPECT_TRUE(fs::exists(root / "step" / "stale"));  // the old one stands until publish
    staging.publish();
  }
  EXPECT_EQ(listing(root), (std::vector<std::string>{"step/", "step/state.json"}));
}

TEST(StagingDirectory, PublishIntoMovesTheChosenFileLast) {
  const auto root = fresh_dir("staging_into");
  fs::create_directories(root / "expert" / ".train-state");
  {
    relmoe::StagingDirectory staging(root / "expert");
    relmoe::write_atomically(staging.path() / "model.safetensors", "w");
    relmoe::write_atomically(staging.path() / "config.json", "{}");
    staging.publish_into("config.json");
  }
  EXPECT_EQ(listing(root), (std::vector<std::string>{"expert/", "expert/.train-state/", "expert/config.json",
                                                     "expert/model.safetensors"}));
}

TEST(StagingDirectory, AnUnpublishedDirectoryIsRemoved) {
  const auto root = fresh_dir("staging_abandon");
  {
    relmoe::StagingDirectory staging(root / "expert");
    relmoe::write_atomically(staging.path() / "config.json", "{}");
  }
  EXPECT_TRUE(listing(root).empty());
}
