// The accelerator seam (runtime/accelerator.hpp) on whatever this machine has: device
// validation, split-and-retry on out-of-memory, and each lane's work going through its own
// stream. The CPU stand-in runs the same interfaces as CUDA; the CUDA tests skip without a GPU.
#include "base/error.hpp"
#include "pipeline/lanes.hpp"
#include "pipeline_support.hpp"
#include "runtime/accelerator.hpp"
#include "runtime/compute.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace relmoe {
namespace {

TEST(Device, AMissingCudaDeviceIsOneLineNamingTheDevicesPresent) {
  if (cuda_device_count() > 7) GTEST_SKIP() << "this machine has a cuda:7";
  try {
    parse_device("cuda:7");
    FAIL() << "cuda:7 was accepted";
  } catch (const Error& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    EXPECT_NE(message.find("'cuda:7' is not present"), std::string::npos) << message;
    EXPECT_NE(message.find("devices: cpu"), std::string::npos) << message;
  }
  EXPECT_EQ(parse_device("cpu"), torch::Device(torch::kCPU));
  EXPECT_EQ(parse_device("auto").is_cuda(), cuda_device_count() > 0);
}

TEST(Device, TheCliRefusesAMissingDeviceWithOneLine) {
  if (cuda_device_count() > 7) GTEST_SKIP() << "this machine has a cuda:7";
  const auto dir = test::scratch_dir() / "device_cli";
  RandomExpertOptions o;
  write_random_expert(dir, o);
  const auto r = test::run_command("echo '{\"ids\": [1, 2]}' | " + test::binary().string() + " hidden --model " +
                                   dir.string() + " --device cuda:7");
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("--device: 'cuda:7' is not present; devices: cpu"), std::string::npos) << r.output;
  EXPECT_EQ(std::count(r.output.begin(), r.output.end(), '\n'), 1) << r.output;
}

TEST(Env, PrintsTheLibtorchVersionCudaAndDevices) {
  const auto r = test::run_command(test::binary().string() + " env --json");
  ASSERT_EQ(r.status, 0) << r.output;
  const auto env = nlohmann::json::parse(r.output);
  EXPECT_EQ(env.at("libtorch").get<std::string>(), build_info().torch_version);
  EXPECT_EQ(env.at("cuda_built").get<bool>(), build_info().cuda_built);
  EXPECT_EQ(env.at("devices").size(), 1u + static_cast<std::size_t>(cuda_device_count()));
  EXPECT_EQ(env.at("devices")[0], "cpu");
  const auto version = test::run_command(test::binary().string() + " --version");
  EXPECT_NE(version.output.find("libtorch " + build_info().torch_version), std::string::npos) << version.output;
}

TEST(SplitOnOom, HalvesABatchUntilItsPartsFitAndKeepsTheirOrder) {
  std::vector<std::pair<std::int64_t, std::int64_t>> ran;
  std::vector<std::int64_t> splits;
  run_splitting_on_oom(
      7,
      [&](std::int64_t begin, std::int64_t end) {
        if (end - begin > 2) throw OutOfMemory("injected");
        ran.emplace_back(begin, end);
      },
      [&](std::int64_t rows) { splits.push_back(rows); });
  const std::vector<std::pair<std::int64_t, std::int64_t>> want = {{0, 1}, {1, 3}, {3, 5}, {5, 7}};
  EXPECT_EQ(ran, want);
  EXPECT_EQ(splits, (std::vector<std::int64_t>{7, 3, 4}));
}

TEST(SplitOnOom, ASingleRowOrAnotherErrorIsRethrown) {
  auto never_fits = [](std::int64_t, std::int64_t) { throw OutOfMemory("injected"); };
  EXPECT_THROW(run_splitting_on_oom(4, never_fits, [](std::int64_t) {}), OutOfMemory);
  int calls = 0;
  auto broken = [&](std::int64_t, std::int64_t) {
    ++calls;
    throw Error("not memory");
  };
  EXPECT_THROW(run_splitting_on_oom(4, broken, [](std::int64_t) {}), Error);
  EXPECT_EQ(calls, 1);
  EXPECT_TRUE(is_out_of_memory(std::bad_alloc()));
  EXPECT_FALSE(is_out_of_memory(Error("x")));
}

std::vector<const Pair*> pointers(const std::vector<Pair>& pairs) {
  std::vector<const Pair*> out;
  for (const auto& p : pairs) out.push_back(&p);
  return out;
}

LaneOptions lane_options(std::int64_t max_batch) {
  LaneOptions o;
  o.feature_dtype = torch::kFloat32;
  o.hidden.batching.max_batch = max_batch;
  return o;
}

TEST(LaneOnOom, AnInjectedAllocationFailureIsSplitDownAndGivesThePairByPairStates) {
  const auto moe = test::make_tiny_moe("lane_oom", Routing::hard);
  const auto pairs = test::tiny_pairs(40);
  auto failing = lane_options(16);
  std::int64_t refused = 0;
  failing.hidden.before_forward = [&](std::int64_t rows, std::int64_t) {
    if (rows > 1) {
      ++refused;
      throw OutOfMemory("injected: CUDA out of memory");
    }
  };
  LaneStats split_stats, single_stats;
  const auto split = make_lane("e0", moe.experts[0].dir, failing)->run(pointers(pairs), split_stats);
  const auto single = make_lane("e0", moe.experts[0].dir, lane_options(1))->run(pointers(pairs), single_stats);
  // Split down to single rows, each forward is the pair-by-pair one: equal bits.
  EXPECT_TRUE(torch::equal(split, single));
  EXPECT_GT(split_stats.oom_splits, 0);
  EXPECT_EQ(split_stats.oom_splits, refused);
  EXPECT_EQ(single_stats.oom_splits, 0);
}

TEST(LaneOnOom, ASinglePromptThatDoesNotFitIsAnErrorNamingTheExpert) {
  const auto moe = test::make_tiny_moe("lane_oom_single", Routing::hard);
  const auto pairs = test::tiny_pairs(5);
  auto failing = lane_options(4);
  failing.hidden.before_forward = [](std::int64_t, std::int64_t) { throw OutOfMemory("injected"); };
  LaneStats stats;
  try {
    make_lane("e1", moe.experts[1].dir, failing)->run(pointers(pairs), stats);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("expert 'e1': ran out of memory on cpu with a single prompt"),
              std::string::npos)
        << e.what();
  }
}

TEST(LaneStreams, EachLaneRunsItsBatchesThroughItsOwnStreamConcurrently) {
  const auto moe = test::make_tiny_moe("lane_streams", Routing::hard);
  const auto pairs = test::tiny_pairs(60);
  std::vector<std::unique_ptr<ExpertLane>> lanes;
  for (int e = 0; e < 2; ++e) lanes.push_back(make_lane("e" + std::to_string(e), moe.experts[e].dir, lane_options(8)));
  // Two lanes on two workers at once, as the scorer runs them in parallel mode.
  LaneStats stats[2];
  LaneWorker workers[2] = {LaneWorker(1), LaneWorker(1)};
  std::future<void> done[2];
  for (int e = 0; e < 2; ++e) done[e] = workers[e].submit([&, e] { lanes[e]->run(pointers(pairs), stats[e]); });
  for (auto& d : done) d.get();
  std::set<std::int64_t> ids;
  for (int e = 0; e < 2; ++e) {
    const auto* stream = lanes[e]->stream();
    ASSERT_NE(stream, nullptr);
    ids.insert(stream->id());
    EXPECT_EQ(stream->device(), torch::Device(torch::kCPU));
    // Every batch: ids and mask staged, one forward launched, its states brought back.
    EXPECT_EQ(stream->counts().launches, stats[e].padding.batches);
    EXPECT_EQ(stream->counts().uploads, 2 * stats[e].padding.batches);
    EXPECT_EQ(stream->counts().downloads, stats[e].padding.batches);
    EXPECT_GT(stats[e].padding.batches, 1);
  }
  EXPECT_EQ(ids.size(), 2u);
}

TEST(CudaStream, UploadsThroughPinnedStagingAndTimesWithEvents) {
  if (cuda_device_count() == 0) GTEST_SKIP() << "no CUDA device here (" << devices_present() << ")";
  auto stream = make_lane_stream(torch::Device(torch::kCUDA, 0));
  auto host = torch::arange(1000, torch::kInt64).view({10, 100});
  for (int round = 0; round < 3; ++round) {  // the staging buffer is reused
    auto device = stream->upload(host + round);
    EXPECT_TRUE(device.is_cuda());
    torch::Tensor doubled;
    const double seconds = stream->run([&] { doubled = device * 2; });
    EXPECT_GE(seconds, 0.0);
    EXPECT_TRUE(torch::equal(stream->download(doubled), (host + round) * 2));
  }
  EXPECT_EQ(stream->counts().uploads, 3);
}

}  // namespace
}  // namespace relmoe
