// Inputs a hostile or careless user can give, each expected to end in a one-line error (or the
// documented policy) with bounded memory and time, and no partial output under a final name:
// configs that lie about the checkpoint, prompts longer than the model, absurd thread counts,
// edited resume manifests, damaged shard outputs, runs that fail before their first commit,
// one-class training labels (train_test.cpp) and mistyped command lines.
#include "models/random_expert.hpp"
#include "models/transformer.hpp"
#include "pipeline/score_output.hpp"
#include "pipeline/shard.hpp"
#include "pipeline_support.hpp"
#include "support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iostream>

namespace {

namespace fs = std::filesystem;
using nlohmann::json;

struct Outcome {
  int status = -1;  // exit status; -1 when killed by a signal
  std::string out, err;
  double wall_s = 0;
  double max_rss_mb = 0;  // of the process itself (wait4), not the test binary
};

// Runs the relmoe binary with `args`, stdin from `input` (or /dev/null), measuring wall time
// and peak resident memory of exactly that process.
Outcome run_relmoe(const std::vector<std::string>& args, const fs::path& input = "/dev/null") {
  const auto dir = relmoe::test::scratch_dir();
  const auto out = dir / "hostile_out.txt", err = dir / "hostile_err.txt";
  std::vector<std::string> full = {relmoe::test::binary().string()};
  full.insert(full.end(), args.begin(), args.end());
  const auto start = std::chrono::steady_clock::now();
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (auto& a : full) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::dup2(::open(input.c_str(), O_RDONLY), 0);
    ::dup2(::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 1);
    ::dup2(::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644), 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  int status = 0;
  struct rusage usage {};
  ::wait4(pid, &status, 0, &usage);
  Outcome o;
  o.wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  o.status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  o.max_rss_mb = static_cast<double>(usage.ru_maxrss) / 1024.0;
  o.out = relmoe::test::read_text(out);
  o.err = relmoe::test::read_text(err);
  return o;
}

std::size_t lines_of(const std::string& text) { return static_cast<std::size_t>(std::count(text.begin(), text.end(), '\n')); }

// A copy of a reference model with config.json fields replaced.
fs::path edited_model(const std::string& model, const std::string& name, const json& changes) {
  const auto dir = relmoe::test::scratch_dir() / ("hostile_" + name);
  fs::remove_all(dir);
  fs::copy(relmoe::test::shared_dir() / "reference/models" / model, dir);
  json config = json::parse(std::ifstream(dir / "config.json"));
  config.merge_patch(changes);
  std::ofstream(dir / "config.json") << config.dump(2);
  return dir;
}

fs::path write_file(const std::string& name, const std::string& text) {
  const auto path = relmoe::test::scratch_dir() / name;
  std::ofstream(path) << text;
  return path;
}

std::string ids_line(std::size_t count, int vocab) {
  std::string line = "{\"ids\": [";
  for (std::size_t i = 0; i < count; ++i) line += (i ? "," : "") + std::to_string((i * 7919 + 13) % vocab);
  return line + "]}\n";
}

void expect_one_line_error(const Outcome& o, const std::string& needle) {
  EXPECT_NE(o.status, 0) << o.err;
  EXPECT_EQ(lines_of(o.err), 1u) << o.err;
  EXPECT_NE(o.err.find(needle), std::string::npos) << o.err;
  EXPECT_TRUE(o.out.empty()) << o.out.substr(0, 200);
}

// Seconds a bounded run may take: 10, three times that under AddressSanitizer, whose build runs
// about three times slower (an unbounded run takes minutes either way).
#ifdef __SANITIZE_ADDRESS__
constexpr double kBoundedSeconds = 30;
#else
constexpr double kBoundedSeconds = 10;
#endif

void expect_bounded(const Outcome& o) {
  std::cout << "[ measured ] " << ::testing::UnitTest::GetInstance()->current_test_info()->name() << ": "
            << o.wall_s << " s wall, " << o.max_rss_mb << " MB peak RSS\n";
  EXPECT_LT(o.max_rss_mb, 2048) << o.err;
  EXPECT_LT(o.wall_s, kBoundedSeconds) << o.err;
}

}  // namespace

TEST(HostileConfig, ALayerCountTheCheckpointCannotHoldFailsBeforeAllocating) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/config.json");
  const auto dir = edited_model("story-llama", "layers", {{"num_hidden_layers", 1000000000}});
  const auto o = run_relmoe({"hidden", "--model", dir.string(), "--threads", "1"}, write_file("one.jsonl", ids_line(4, 2048)));
  expect_one_line_error(o, "field 'num_hidden_layers' is 1000000000 but the checkpoint holds only");
  expect_bounded(o);
}

TEST(HostileConfig, NumbersThatMustBePositiveNameTheirField) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/config.json");
  const auto input = write_file("one.jsonl", ids_line(4, 2048));
  for (const auto& [field, value] : std::vector<std::pair<std::string, double>>{
           {"rms_norm_eps", -1}, {"rope_theta", -1}, {"rope_theta", 0}, {"rms_norm_eps", 0}}) {
    const auto dir = edited_model("story-llama", "numbers", {{field, value}});
    const auto o = run_relmoe({"hidden", "--model", dir.string(), "--threads", "1"}, input);
    expect_one_line_error(o, "field '" + field + "' must be a positive number");
  }
}

TEST(HostileConfig, TensorsTheConfigDoesNotUseAreAnError) {
  RELMOE_REQUIRE_SHARED("reference/models/tiny-gemma2/config.json");
  const auto input = write_file("one.jsonl", ids_line(4, 256));
  const auto fewer = edited_model("story-llama", "fewer", {{"num_hidden_layers", 1}});
  auto o = run_relmoe({"hidden", "--model", fewer.string(), "--threads", "1"}, input);
  expect_one_line_error(o, "stored tensors are not used by the config.json model (llama, 1 layers): model.layers.1.");
  o = run_relmoe({"hidden", "--model", fewer.string(), "--threads", "1", "--allow-unused-tensors"}, input);
  EXPECT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(lines_of(o.out), 1u);

  const auto relabelled = edited_model("tiny-gemma2", "relabelled", {{"model_type", "llama"}});
  o = run_relmoe({"hidden", "--model", relabelled.string(), "--threads", "1"}, input);
  expect_one_line_error(o, "feedforward_layernorm.weight");
}

TEST(HostilePrompt, InputsLongerThanTheModelLoseTheirMiddleWithinBounds) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/config.json");
  const auto model = (relmoe::test::shared_dir() / "reference/models/story-llama").string();
  const auto o = run_relmoe({"hidden", "--model", model, "--threads", "1"}, write_file("long.jsonl", ids_line(20000, 2048)));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.err.find("1 inputs were longer than 512 tokens and lost their middle (kept the first 504 and the last 8)"),
            std::string::npos)
      << o.err;
  expect_bounded(o);
  // The policy, spelled out: the first 504 ids and the last 8 give the same state.
  json ids = json::parse(ids_line(20000, 2048))["ids"];
  json kept = json::array();
  for (std::size_t i = 0; i < 504; ++i) kept.push_back(ids[i]);
  for (std::size_t i = 20000 - 8; i < 20000; ++i) kept.push_back(ids[i]);
  const auto cut = run_relmoe({"hidden", "--model", model, "--threads", "1"},
                              write_file("cut.jsonl", json{{"ids", kept}}.dump() + "\n"));
  ASSERT_EQ(cut.status, 0) << cut.err;
  EXPECT_EQ(cut.out, o.out);
}

TEST(HostilePrompt, ThreadCountsBeyondTheMachineAreCapped) {
  RELMOE_REQUIRE_SHARED("reference/models/story-llama/config.json");
  const auto model = (relmoe::test::shared_dir() / "reference/models/story-llama").string();
  const auto o = run_relmoe({"hidden", "--model", model, "--threads", "100000"}, write_file("one.jsonl", ids_line(16, 2048)));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_NE(o.err.find("--threads 100000 is more than this machine's"), std::string::npos) << o.err;
  EXPECT_EQ(lines_of(o.out), 1u);
  expect_bounded(o);
}

TEST(HostilePrompt, AttentionInQueryBlocksEqualsWholeAttention) {
  for (const char* arch : {"llama", "gemma2"}) {
    const auto dir = relmoe::test::scratch_dir() / (std::string("blocks_") + arch);
    relmoe::RandomExpertOptions o;
    o.arch = arch;
    o.seed = 5;
    relmoe::write_random_expert(dir, o);
    const auto model = relmoe::Transformer::load(dir, torch::kFloat32, torch::kCPU);
    std::vector<std::vector<relmoe::TokenId>> seqs = {{}, {}, {}};
    for (int i = 0; i < 90; ++i) seqs[0].push_back((i * 31) % 256);
    for (int i = 0; i < 37; ++i) seqs[1].push_back((i * 17 + 3) % 256);
    for (int i = 0; i < 64; ++i) seqs[2].push_back((i * 11 + 5) % 256);
    torch::InferenceMode guard;
    const auto batch = relmoe::make_batch(seqs, torch::kCPU);
    relmoe::ForwardOptions whole, blocks;
    whole.all_positions = blocks.all_positions = true;
    blocks.attention_block = 3 * 4 * 90 * 7;  // 7 query rows per block
    const auto a = model.forward(batch, whole), b = model.forward(batch, blocks);
    EXPECT_LT((a.hidden - b.hidden).abs().max().item<double>(), 1e-5) << arch;
    EXPECT_LT((a.last_hidden - b.last_hidden).abs().max().item<double>(), 1e-5) << arch;
  }
}

namespace {

struct ScoreFixture {
  relmoe::test::TinyMoe moe;
  fs::path input;
};

ScoreFixture score_fixture(const std::string& name, int pairs) {
  ScoreFixture f{relmoe::test::make_tiny_moe("hostile_" + name, relmoe::Routing::hard, 2), {}};
  f.input = f.moe.root / "pairs.tsv";
  relmoe::write_pairs(f.input, relmoe::test::tiny_pairs(pairs, 9));
  return f;
}

std::vector<std::string> score_args(const ScoreFixture& f, const fs::path& out, std::vector<std::string> extra = {}) {
  std::vector<std::string> args = {"score", "--model", f.moe.model.string(), "--input", f.input.string(),
                                   "--output", out.string(), "--threads", "1", "--quiet", "--chunk", "25"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

void remove_output(const fs::path& out) {
  for (const auto& p : {out, relmoe::manifest_path(out), relmoe::part_path(out), relmoe::rejects_path(out)}) fs::remove(p);
}

json read_json(const fs::path& path) { return json::parse(std::ifstream(path)); }

void write_manifest(const fs::path& out, json manifest, bool recompute_checksum) {
  if (recompute_checksum) manifest["checksum"] = relmoe::manifest_checksum(manifest);
  std::ofstream(relmoe::manifest_path(out)) << manifest.dump(2);
}

}  // namespace

TEST(HostileScore, AHugeItemFieldIsTruncatedWithinBounds) {
  auto f = score_fixture("huge", 3);
  std::ofstream(f.input, std::ios::app) << "huge\tm-a\t\tred shoe\t" << std::string(10 << 20, 'x') << "\t\t1\t\t\n";
  const auto out = f.moe.root / "scores.tsv";
  remove_output(out);
  const auto o = run_relmoe(score_args(f, out));
  ASSERT_EQ(o.status, 0) << o.err;
  expect_bounded(o);
  EXPECT_EQ(relmoe::test::read_scores(out).size(), 4u);
  EXPECT_GE(relmoe::read_score_manifest(out).stats.at("truncated_prompts").get<int>(), 1);
  EXPECT_NE(o.err.find("lost their middle"), std::string::npos) << o.err;
}

TEST(HostileScore, AnEditedManifestIsRefusedAndRestartStartsClean) {
  const auto f = score_fixture("manifest", 100);
  const auto out = f.moe.root / "scores.tsv";
  remove_output(out);
  ASSERT_EQ(run_relmoe(score_args(f, out)).status, 0);
  const auto complete = relmoe::test::read_text(out);
  // The state of a run killed after its last chunk: .part holds every row, not yet finished.
  const auto killed = [&] {
    fs::rename(out, relmoe::part_path(out));
    json m = read_json(relmoe::manifest_path(out));
    m["finished"] = false;
    return m;
  };
  json manifest = killed();
  write_manifest(out, manifest, true);
  auto o = run_relmoe(score_args(f, out, {"--resume"}));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(relmoe::test::read_text(out), complete);

  manifest = killed();
  const auto offset = manifest["committed"]["input_offset"].get<std::uint64_t>();
  manifest["committed"]["input_offset"] = 1000000000000ULL;
  write_manifest(out, manifest, false);
  o = run_relmoe(score_args(f, out, {"--resume"}));
  expect_one_line_error(o, "checksum mismatch: the manifest was edited or damaged");
  EXPECT_FALSE(fs::exists(out));

  write_manifest(out, manifest, true);  // a consistent checksum does not make the offset true
  o = run_relmoe(score_args(f, out, {"--resume"}));
  expect_one_line_error(o, "records input offset 1000000000000");
  EXPECT_FALSE(fs::exists(out));

  manifest["committed"]["input_offset"] = offset - 7;  // inside the last line
  write_manifest(out, manifest, true);
  o = run_relmoe(score_args(f, out, {"--resume"}));
  expect_one_line_error(o, "is not where the record 'p99' it follows ends");
  EXPECT_FALSE(fs::exists(out));

  o = run_relmoe(score_args(f, out, {"--restart"}));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(relmoe::test::read_text(out), complete);
  EXPECT_TRUE(relmoe::read_score_manifest(out).finished);
}

TEST(HostileScore, ARunThatFailsBeforeItsFirstChunkLeavesNothing) {
  auto f = score_fixture("empty", 10);
  const auto pairs = relmoe::test::read_text(f.input);
  std::ofstream(f.input, std::ios::trunc).flush();
  const auto out = f.moe.root / "scores.tsv";
  remove_output(out);
  auto o = run_relmoe(score_args(f, out));
  expect_one_line_error(o, "empty file");
  for (const auto& p : {out, relmoe::manifest_path(out), relmoe::part_path(out), relmoe::rejects_path(out)})
    EXPECT_FALSE(fs::exists(p)) << p;
  std::ofstream(f.input, std::ios::trunc) << pairs;
  o = run_relmoe(score_args(f, out));
  ASSERT_EQ(o.status, 0) << o.err;
  EXPECT_EQ(relmoe::test::read_scores(out).size(), 10u);
}

TEST(HostileScore, MergeRefusesAShardRowWithoutAFiniteScore) {
  const auto f = score_fixture("merge", 60);
  const auto out = f.moe.root / "scores.tsv";
  std::vector<std::string> shards;
  for (int i = 0; i < 2; ++i) {
    const auto shard = relmoe::shard_output_path(out.string(), {i, 2});
    remove_output(shard);
    shards.push_back(shard);
    ASSERT_EQ(run_relmoe(score_args(f, out, {"--shard", std::to_string(i) + "/2"})).status, 0);
  }
  const auto text = relmoe::test::read_text(shards[1]);
  const auto row = text.find('\n') + 1, tab = text.find('\t', row), end = text.find('\n', tab);
  std::ofstream(shards[1], std::ios::trunc) << text.substr(0, tab + 1) << "garbage" << text.substr(end);
  const auto merged = f.moe.root / "merged.tsv";
  fs::remove(merged);
  const auto o = run_relmoe({"merge", "--output", merged.string(), shards[0], shards[1]});
  expect_one_line_error(o, "garbage' is not an id and a finite score");
  EXPECT_FALSE(fs::exists(merged));
}

TEST(HostileCli, ErrorsNameTheUnknownSubcommandOrOptionAndTheFlagAtFault) {
  auto o = run_relmoe({"frobnicate"});
  EXPECT_NE(o.status, 0);
  EXPECT_NE(o.err.find("frobnicate"), std::string::npos) << o.err;
  o = run_relmoe({"score", "--frob"});
  EXPECT_NE(o.status, 0);
  EXPECT_NE(o.err.find("--frob"), std::string::npos) << o.err;
  const auto f = score_fixture("cli", 5);
  o = run_relmoe(score_args(f, f.moe.root / "s.tsv", {"--max-batch", "0"}));
  expect_one_line_error(o, "--max-batch: must be at least 1, got 0");
  o = run_relmoe(score_args(f, f.moe.root / "s.tsv", {"--token-budget", "0"}));
  expect_one_line_error(o, "--token-budget: must be at least 1, got 0");
}
