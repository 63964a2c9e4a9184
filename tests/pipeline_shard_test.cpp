// Shard assignment: a partition of the ids, balanced, from flags or launcher environments.
#include "base/error.hpp"
#include "base/hash.hpp"
#include "pipeline/shard.hpp"

#include <gtest/gtest.h>

#include <cstdlib>

TEST(Shard, HashIsFnv1aWithSplitmixFinaliser) {
  // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (published test vector); the finaliser is
  // splitmix64's, applied here by hand.
  std::uint64_t h = 0xaf63dc4c8601ec8cULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  EXPECT_EQ(relmoe::hash64("a"), h);
}

TEST(Shard, IdsArePartitionedEvenly) {
  const int n = 20000, shards = 4;
  std::vector<int> count(shards, 0);
  for (int i = 0; i < n; ++i) {
    const std::string id = "dv" + std::to_string(i);
    const int s = relmoe::shard_of(id, shards);
    ASSERT_GE(s, 0);
    ASSERT_LT(s, shards);
    EXPECT_EQ(s, relmoe::shard_of(id, shards));
    ++count[s];
  }
  for (int c : count) EXPECT_NEAR(c, n / shards, 0.05 * n / shards);
  EXPECT_EQ(relmoe::shard_of("anything", 1), 0);
}

TEST(Shard, ParsesFlagAndEnvironment) {
  EXPECT_EQ(relmoe::parse_shard(""), (relmoe::Shard{0, 1}));
  EXPECT_EQ(relmoe::parse_shard("2/5"), (relmoe::Shard{2, 5}));
  for (const char* bad : {"5/5", "-1/3", "1", "a/b", "1/0"}) EXPECT_THROW(relmoe::parse_shard(bad), relmoe::Error) << bad;

  setenv("OMPI_COMM_WORLD_RANK", "1", 1);
  setenv("OMPI_COMM_WORLD_SIZE", "3", 1);
  EXPECT_EQ(relmoe::parse_shard("auto"), (relmoe::Shard{1, 3}));
  unsetenv("OMPI_COMM_WORLD_RANK");
  unsetenv("OMPI_COMM_WORLD_SIZE");

  setenv("SLURM_ARRAY_TASK_ID", "7", 1);
  setenv("SLURM_ARRAY_TASK_MIN", "5", 1);
  setenv("SLURM_ARRAY_TASK_COUNT", "4", 1);
  EXPECT_EQ(relmoe::parse_shard("auto"), (relmoe::Shard{2, 4}));
  unsetenv("SLURM_ARRAY_TASK_ID");
  unsetenv("SLURM_ARRAY_TASK_MIN");
  unsetenv("SLURM_ARRAY_TASK_COUNT");

  setenv("SLURM_PROCID", "0", 1);
  setenv("SLURM_NTASKS", "1", 1);  // a single task is no sharding launcher
  EXPECT_THROW(relmoe::parse_shard("auto"), relmoe::Error);
  unsetenv("SLURM_PROCID");
  unsetenv("SLURM_NTASKS");
}

TEST(Shard, OutputPathCarriesTheShard) {
  EXPECT_EQ(relmoe::shard_output_path("out/scores.tsv", {1, 4}), "out/scores.shard-1-of-4.tsv");
  EXPECT_EQ(relmoe::shard_output_path("scores.tsv", {0, 1}), "scores.tsv");
}
