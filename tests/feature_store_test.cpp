#include "io/feature_store.hpp"

#include "base/error.hpp"
#include "support.hpp"

#include <gtest/gtest.h>
#include <torch/utils.h>

#include <filesystem>
#include <fstream>

namespace fs = std::filesystem;

namespace {

fs::path fresh_dir(const std::string& name) {
  auto dir = relmoe::test::scratch_dir() / ("relmoe_fs_" + name);
  fs::remove_all(dir);
  return dir;
}

std::vector<std::string> make_ids(int n) {
  std::vector<std::string> ids;
  for (int i = 0; i < n; ++i) ids.push_back("p" + std::to_string(i));
  return ids;
}

const std::vector<relmoe::ExpertColumn> kExperts = {
    {{"qwen", {}, 6}, torch::kFloat16, true, 0},
    {{"gemma", {}, 4}, torch::kFloat32, false, 0},
};

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const relmoe::Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(FeatureStore, WritesAndReadsRowsByIndexAndId) {
  const auto dir = fresh_dir("roundtrip");
  torch::manual_seed(0);
  const auto q = torch::randn({10, 6}), g = torch::randn({10, 4}), s = torch::randn({10});
  {
    relmoe::FeatureStoreWriter w(dir, make_ids(10), kExperts);
    w.append("qwen", q.slice(0, 0, 7), s.slice(0, 0, 7));
    w.append("qwen", q.slice(0, 7), s.slice(0, 7));
    w.append("gemma", g);
    w.commit();
  }
  const auto store = relmoe::FeatureStore::open(dir);
  EXPECT_EQ(store.rows(), 10);
  ASSERT_EQ(store.experts().size(), 2u);
  EXPECT_EQ(store.experts()[0].rows_complete, 10);
  const int qi = store.expert_index("qwen"), gi = store.expert_index("gemma");
  const auto rows = torch::tensor({3, 0, 9}, torch::kLong);
  const auto got = store.hidden(qi, rows);
  EXPECT_EQ(got.dtype(), torch::kFloat32);
  // f16 storage: equal to the f16 rounding of the input.
  EXPECT_TRUE(torch::equal(got, q.index_select(0, rows).to(torch::kFloat16).to(torch::kFloat32)));
  EXPECT_TRUE(torch::equal(store.hidden(gi, store.row("p5")), g[5]));
  EXPECT_TRUE(torch::equal(store.scores(qi, rows), s.index_select(0, rows)));
  EXPECT_FALSE(store.find_row("nope").has_value());
  EXPECT_NE(error_of([&] { store.expert_index("llama"); }).find("store has: qwen, gemma"), std::string::npos);
  EXPECT_NE(error_of([&] { store.scores(gi, rows); }).find("no score column"), std::string::npos);
}

TEST(FeatureStore, InterruptedWriterResumesWithoutTornRows) {
  const auto dir = fresh_dir("resume");
  torch::manual_seed(1);
  const auto q = torch::randn({12, 6}), g = torch::randn({12, 4}), s = torch::randn({12});
  {
    relmoe::FeatureStoreWriter w(dir, make_ids(12), kExperts);
    w.append("qwen", q.slice(0, 0, 5), s.slice(0, 0, 5));
    w.commit();
    // Written but never committed: a run killed here.
    w.append("qwen", q.slice(0, 5, 8), s.slice(0, 5, 8));
    w.append("gemma", g.slice(0, 0, 4));
  }
  // A torn half row at the end of the data file, as a kill mid-write leaves it.
  { std::ofstream(dir / "qwen.bin", std::ios::app | std::ios::binary) << "xyz"; }
  {
    const auto store = relmoe::FeatureStore::open(dir);
    EXPECT_EQ(store.experts()[0].rows_complete, 5);
    EXPECT_EQ(store.experts()[1].rows_complete, 0);
    EXPECT_NE(error_of([&] { store.hidden(0, int64_t{5}); }).find("has 5 complete rows"), std::string::npos);
  }
  {
    relmoe::FeatureStoreWriter w(dir, make_ids(12), kExperts);
    EXPECT_EQ(w.next_row("qwen"), 5);
    EXPECT_EQ(w.next_row("gemma"), 0);
    w.append("qwen", q.slice(0, 5), s.slice(0, 5));
    w.append("gemma", g);
    w.commit();
  }
  const auto store = relmoe::FeatureStore::open(dir);
  EXPECT_EQ(fs::file_size(dir / "qwen.bin"), 12u * 6 * 2);
  const auto all = torch::arange(12, torch::kLong);
  EXPECT_TRUE(torch::equal(store.hidden(0, all), q.to(torch::kFloat16).to(torch::kFloat32)));
  EXPECT_TRUE(torch::equal(store.hidden(1, all), g));
  EXPECT_TRUE(torch::equal(store.scores(0, all), s));
}

TEST(FeatureStore, ResumingAddsNewExpertsAndRejectsMismatches) {
  const auto dir = fresh_dir("mismatch");
  { relmoe::FeatureStoreWriter w(dir, make_ids(3), {kExperts[0]}); }
  {
    relmoe::FeatureStoreWriter w(dir, make_ids(3), kExperts);  // adds gemma
    w.append("gemma", torch::zeros({3, 4}));
    w.commit();
  }
  EXPECT_EQ(relmoe::FeatureStore::open(dir).experts().size(), 2u);
  EXPECT_NE(error_of([&] { relmoe::FeatureStoreWriter w(dir, make_ids(4), kExperts); }).find("other pair ids"),
            std::string::npos);
  auto wider = kExperts;
  wider[1].width = 5;
  EXPECT_NE(error_of([&] { relmoe::FeatureStoreWriter w(dir, make_ids(3), wider); }).find("width 4"),
            std::string::npos);
  relmoe::FeatureStoreWriter w(dir, make_ids(3), kExperts);
  EXPECT_NE(error_of([&] { w.append("gemma", torch::zeros({1, 4})); }).find("exceeds"), std::string::npos);
  EXPECT_NE(error_of([&] { w.append("qwen", torch::zeros({1, 6})); }).find("needs scores"), std::string::npos);
  EXPECT_NE(error_of([&] { w.append("qwen", torch::zeros({1, 5}), torch::zeros({1})); }).find("[n, 6]"),
            std::string::npos);
  EXPECT_NE(error_of([&] { relmoe::FeatureStoreWriter x(dir, {"a", "a"}, kExperts); }).find("duplicate"),
            std::string::npos);
}

TEST(FeatureStore, TruncatedFileIsAClearErrorNamingIt) {
  const auto dir = fresh_dir("truncated");
  {
    relmoe::FeatureStoreWriter w(dir, make_ids(4), {kExperts[1]});
    w.append("gemma", torch::ones({4, 4}));
    w.commit();
  }
  fs::resize_file(dir / "gemma.bin", 20);
  const auto err = error_of([&] { relmoe::FeatureStore::open(dir); });
  EXPECT_NE(err.find("gemma.bin"), std::string::npos) << err;
  EXPECT_NE(err.find("truncated"), std::string::npos) << err;
  EXPECT_NE(error_of([&] { relmoe::FeatureStore::open(fresh_dir("absent")); }).find("manifest.json"),
            std::string::npos);
}
