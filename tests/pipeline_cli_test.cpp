// `relmoe score` / `relmoe merge` as processes: SIGKILL at random points then --resume, shards
// (flag and mpirun) merged against a single run, malformed rows.
#include "io/feature_store.hpp"
#include "moe/dataset.hpp"
#include "pipeline/score_output.hpp"
#include "pipeline_support.hpp"
#include "support.hpp"

#include <gtest/gtest.h>

#include <signal.h>
#include <fcntl.h>
#include <sys/wait.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <thread>

namespace {

namespace fs = std::filesystem;

struct Cli {
  relmoe::test::TinyMoe moe;
  fs::path input;
};

// A tiny MoE and `n` pairs, written once per fixture name.
Cli make_cli(const std::string& name, int n) {
  Cli c{relmoe::test::make_tiny_moe(name, relmoe::Routing::hard, 2), {}};
  c.input = c.moe.root / "pairs.tsv";
  relmoe::write_pairs(c.input, relmoe::test::tiny_pairs(n, 5));
  return c;
}

std::vector<std::string> score_args(const Cli& c, const fs::path& out, const std::vector<std::string>& extra) {
  std::vector<std::string> args = {relmoe::test::binary().string(), "score", "--model", c.moe.model.string(),
                                   "--input", c.input.string(), "--output", out.string(), "--threads", "1", "--quiet"};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

pid_t spawn(const std::vector<std::string>& args) {
  const pid_t pid = ::fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    const int null = ::open("/dev/null", O_WRONLY);
    ::dup2(null, 1);
    ::dup2(null, 2);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
  return pid;
}

int run(const std::vector<std::string>& args) {
  int status = 0;
  ::waitpid(spawn(args), &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Runs a shell command, returning its exit status and stderr.
std::pair<int, std::string> shell(const std::string& command) {
  const auto err = relmoe::test::scratch_dir() / "relmoe_pipe_err";
  const int status = std::system((command + " 2> " + err.string() + " > /dev/null").c_str());
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, relmoe::test::read_text(err)};
}

std::string join(const std::vector<std::string>& args) {
  std::string s;
  for (const auto& a : args) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Same ids in the same order; scores within `bound` (0: the same text, bit for bit).
void expect_same_rows(const std::vector<std::pair<std::string, std::string>>& got,
                      const std::vector<std::pair<std::string, std::string>>& want, double bound) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].first, want[i].first) << i;
    if (bound == 0)
      EXPECT_EQ(got[i].second, want[i].second) << got[i].first;
    else
      EXPECT_NEAR(std::stod(got[i].second), std::stod(want[i].second), bound) << got[i].first;
  }
}

void clear_output(const fs::path& out) {
  for (const auto& p : {out, relmoe::manifest_path(out), relmoe::part_path(out), relmoe::rejects_path(out)})
    fs::remove(p);
}

}  // namespace

TEST(ScoreCli, SigkillAtRandomPointsThenResumeEqualsUninterruptedRun) {
  const auto c = make_cli("kill", 800);
  const auto whole = c.moe.root / "whole.tsv", killed = c.moe.root / "killed.tsv";
  clear_output(whole);
  clear_output(killed);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_EQ(run(score_args(c, whole, {"--chunk", "25"})), 0);
  const double full_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  std::mt19937 rng(20240601);
  int killed_midway = 0;
  for (int attempt = 0; attempt < 3; ++attempt) {
    const pid_t pid = spawn(score_args(c, killed, {"--chunk", "25", "--resume"}));
    const double wait_s = std::uniform_real_distribution<double>(0.05, 0.9)(rng) * full_s;
    std::this_thread::sleep_for(std::chrono::duration<double>(wait_s));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (WIFSIGNALED(status) && !fs::exists(killed)) ++killed_midway;
  }
  EXPECT_GE(killed_midway, 1) << "no kill landed before the run finished; the test checked nothing";
  ASSERT_EQ(run(score_args(c, killed, {"--chunk", "25", "--resume"})), 0);
  EXPECT_FALSE(fs::exists(relmoe::part_path(killed)));
  const auto want = relmoe::test::read_scores(whole), got = relmoe::test::read_scores(killed);
  ASSERT_EQ(want.size(), 800u);
  EXPECT_EQ(got, want);  // every id once, in order, with identical scores
  EXPECT_TRUE(relmoe::read_score_manifest(killed).finished);
}

TEST(ScoreCli, ResumeRefusesOtherSettingsAndExistingOutputNeedsResume) {
  const auto c = make_cli("settings", 60);
  const auto out = c.moe.root / "s.tsv";
  clear_output(out);
  ASSERT_EQ(run(score_args(c, out, {})), 0);
  auto [status, err] = shell(join(score_args(c, out, {})));
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("--resume"), std::string::npos) << err;
  std::tie(status, err) = shell(join(score_args(c, out, {"--resume", "--token-budget", "99"})));
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("run.settings.token_budget"), std::string::npos) << err;
  std::tie(status, err) = shell(join(score_args(c, out, {"--resume"})));
  EXPECT_EQ(status, 0);
  EXPECT_NE(err.find("already complete"), std::string::npos) << err;
}

TEST(ScoreCli, TwoShardsMergeToTheSingleRun) {
  const auto c = make_cli("shards", 300);
  const auto single = c.moe.root / "single.tsv", sharded = c.moe.root / "sharded.tsv",
             merged = c.moe.root / "merged.tsv";
  clear_output(single);
  ASSERT_EQ(run(score_args(c, single, {"--chunk", "40", "--batch-invariant"})), 0);
  std::vector<std::string> parts;
  // The shards batch differently in every way (chunk, token budget, threads, lane mode); with
  // --batch-invariant the merged scores are still the single run's, bit for bit.
  const std::vector<std::vector<std::string>> settings = {
      {"--chunk", "17", "--token-budget", "64"}, {"--chunk", "40", "--mode", "serial"}};
  for (int s = 0; s < 2; ++s) {
    const auto out = c.moe.root / ("sharded.shard-" + std::to_string(s) + "-of-2.tsv");
    clear_output(out);
    auto extra = settings[s];
    extra.insert(extra.end(), {"--batch-invariant", "--shard", std::to_string(s) + "/2"});
    auto args = score_args(c, sharded, extra);
    if (s == 0) *(std::find(args.begin(), args.end(), "--threads") + 1) = "2";  // a lane thread each
    ASSERT_EQ(run(args), 0);
    parts.push_back(out.string());
    EXPECT_LT(relmoe::test::read_scores(out).size(), 300u);
  }
  fs::remove(merged);
  ASSERT_EQ(run({relmoe::test::binary().string(), "merge", "--output", merged.string(), parts[0], parts[1]}), 0);
  expect_same_rows(relmoe::test::read_scores(merged), relmoe::test::read_scores(single), 0);

  // A shard left out, or a row lost from one, is an error naming it.
  auto [status, err] = shell(relmoe::test::binary().string() + " merge --output " + merged.string() + " " + parts[0]);
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("shard 1 of 2 is missing"), std::string::npos) << err;
  auto text = relmoe::test::read_text(parts[1]);
  const auto second_row = text.find('\n', text.find('\n') + 1);
  const auto third_row = text.find('\n', second_row + 1);
  std::ofstream(parts[1]) << text.substr(0, second_row + 1) + text.substr(third_row + 1);
  std::tie(status, err) = shell(relmoe::test::binary().string() + " merge --output " + merged.string() + " " +
                                parts[0] + " " + parts[1]);
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("lacks the row"), std::string::npos) << err;
}

TEST(ScoreCli, MpirunRanksShardTheJob) {
  if (std::system("command -v mpirun > /dev/null 2>&1") != 0) GTEST_SKIP() << "mpirun not installed (openmpi-bin)";
  const auto c = make_cli("mpi", 200);
  const auto single = c.moe.root / "single.tsv", out = c.moe.root / "mpi.tsv", merged = c.moe.root / "merged.tsv";
  clear_output(single);
  ASSERT_EQ(run(score_args(c, single, {})), 0);
  std::vector<std::string> parts;
  for (int s = 0; s < 2; ++s) {
    parts.push_back((c.moe.root / ("mpi.shard-" + std::to_string(s) + "-of-2.tsv")).string());
    clear_output(parts.back());
  }
  const auto [status, err] =
      shell("mpirun --allow-run-as-root --oversubscribe -np 2 --mca btl self,tcp --mca btl_tcp_if_include lo " +
            join(score_args(c, out, {"--shard", "auto"})));
  ASSERT_EQ(status, 0) << err;
  fs::remove(merged);
  ASSERT_EQ(run({relmoe::test::binary().string(), "merge", "--output", merged.string(), parts[0], parts[1]}), 0);
  // The default, batched path: within the derived bound (docs/PIPELINE.md).
  expect_same_rows(relmoe::test::read_scores(merged), relmoe::test::read_scores(single),
                   relmoe::test::batching_bound(c.moe));
}

TEST(ScoreCli, MalformedRowsStopTheRunOrAreSkippedAndListed) {
  auto c = make_cli("bad", 5);
  c.input = c.moe.root / "bad.tsv";
  std::ofstream(c.input) << "id\tmarket\tquery\titem\n"
                            "a\tm-a\tred shoe\tRed Shoe\n"
                            "b\tm-a\tonly three\n"
                            "c\tm-b\t\tempty query\n"
                            "d\tm-b\tbad \xc3\x28 utf8\titem\n"
                            "e\tm-c\tlast\titem e\n";
  const auto out = c.moe.root / "bad_out.tsv";
  clear_output(out);
  auto [status, err] = shell(join(score_args(c, out, {})));
  EXPECT_NE(status, 0);
  EXPECT_NE(err.find("bad.tsv:3"), std::string::npos) << err;
  EXPECT_FALSE(fs::exists(out));
  clear_output(out);
  std::tie(status, err) = shell(join(score_args(c, out, {"--skip-bad"})));
  ASSERT_EQ(status, 0) << err;
  EXPECT_NE(err.find("3 rows rejected"), std::string::npos) << err;
  const auto rows = relmoe::test::read_scores(out);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].first, "a");
  EXPECT_EQ(rows[1].first, "e");
  const auto rejects = relmoe::test::read_text(relmoe::rejects_path(out));
  for (const char* line : {"\n3\t", "\n4\t", "\n5\t"}) EXPECT_NE(rejects.find(line), std::string::npos) << rejects;
}

TEST(ScoreCli, EmbedTrainScoreFindsTheExpertsAndMatchesTheStorePath) {
  const auto c = make_cli("e2e", 160);
  const auto store = c.moe.root / "store", model = c.moe.root / "trained", out = c.moe.root / "e2e.tsv";
  fs::remove_all(store);
  fs::remove_all(model);
  clear_output(out);
  std::string embed = relmoe::test::binary().string() + " embed --threads 1 --data " + c.input.string() + " --out " +
                      store.string();
  for (const auto& e : c.moe.experts) embed += " --expert " + e.name + "=" + e.dir.string();
  ASSERT_EQ(shell(embed).first, 0);
  auto [status, err] = shell(relmoe::test::binary().string() + " train --threads 1 --no-progress --features " +
                             store.string() + " --data " + c.input.string() + " --dev " + c.input.string() +
                             " --routing hard --k 2 --epochs 2 --out " + model.string());
  ASSERT_EQ(status, 0) << err;
  // No --expert: the directories come from the store through the model's experts.json.
  std::tie(status, err) = shell(relmoe::test::binary().string() + " score --quiet --threads 1 --model " +
                                model.string() + " --input " + c.input.string() + " --output " + out.string());
  ASSERT_EQ(status, 0) << err;
  const auto rows = relmoe::test::read_scores(out);

  const auto features = relmoe::FeatureStore::open(store);
  auto trained = relmoe::load_model(model);
  const auto pairs = relmoe::read_pairs(c.input);
  const auto pred = relmoe::predict(trained, features, relmoe::make_pair_set(features, pairs, trained->config, "pairs", false));
  ASSERT_EQ(rows.size(), pairs.size());
  const double bound = relmoe::test::batching_bound(model, c.moe.experts);
  for (std::size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ(rows[i].first, pairs[i].id);
    EXPECT_NEAR(std::stod(rows[i].second), pred.scores[i], bound) << pairs[i].id;
  }
}
