// The batch scorer against independent references: each pair run alone through its experts and
// the MoE forward; the feature-store path of `relmoe eval`; serial vs parallel lanes; the cache.
#include "base/error.hpp"
#include "io/feature_store.hpp"
#include "moe/dataset.hpp"
#include "models/prompt_encoding.hpp"
#include "moe/model_experts.hpp"
#include "pipeline/scorer.hpp"
#include "pipeline/score_output.hpp"
#include "pipeline_support.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>
#include <map>

namespace {

namespace fs = std::filesystem;
using relmoe::test::TinyMoe;

struct Scored {
  std::vector<std::pair<std::string, std::string>> rows;
  relmoe::ScoreStats stats;
};

Scored score(const TinyMoe& moe, const fs::path& input, const std::string& out_name, relmoe::ScoreOptions o = {}) {
  relmoe::ScoreJob job;
  job.model = moe.model;
  job.input = input;
  job.output = moe.root / out_name;
  fs::remove(job.output);
  fs::remove(relmoe::manifest_path(job.output));
  fs::remove(relmoe::part_path(job.output));
  o.progress = false;
  Scored s;
  s.stats = relmoe::score_pairs(job, o);
  s.rows = relmoe::test::read_scores(job.output);
  return s;
}

fs::path pairs_file(const TinyMoe& moe, const std::vector<relmoe::Pair>& pairs) {
  const auto path = moe.root / "pairs.tsv";
  relmoe::write_pairs(path, pairs);
  return path;
}

// Each pair alone: its prompt through every expert one sequence at a time (batch of one, no
// bucketing, no cache), rounded to f16 as the store keeps it, then the MoE's own forward.
std::vector<float> reference_scores(const TinyMoe& moe, const std::vector<relmoe::Pair>& pairs) {
  auto model = relmoe::load_model(moe.model);
  std::vector<relmoe::Expert> experts;
  for (const auto& e : moe.experts) experts.push_back(relmoe::Expert::load(e.dir));
  std::vector<float> out;
  torch::NoGradGuard no_grad;
  for (const auto& p : pairs) {
    relmoe::FeatureBags bags;
    bags.add(p.query, p.item, model->config.hashing);
    relmoe::RouterBatch batch;
    std::tie(batch.ids, batch.offsets) = bags.gather({0});
    batch.markets = torch::tensor({model->config.market_index(p.market)}, torch::kLong);
    const relmoe::HiddenFetch fetch = [&](int e, const torch::Tensor&) {
      std::int64_t truncated = 0;
      const auto ids = relmoe::PromptEncoder::of(experts[e], moe.experts[e].name, 4096).encode(p, truncated);
      return experts[e].hidden({ids}).last_hidden.to(torch::kFloat16).to(torch::kFloat32);
    };
    out.push_back(model->forward(batch, fetch, false).logits.item<float>());
  }
  return out;
}

void expect_close(const std::vector<std::pair<std::string, std::string>>& got,
                  const std::vector<std::pair<std::string, std::string>>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (std::size_t i = 0; i < got.size(); ++i) {
    ASSERT_EQ(got[i].first, want[i].first) << i;
    EXPECT_NEAR(std::stod(got[i].second), std::stod(want[i].second), tol) << got[i].first;
  }
}

}  // namespace

TEST(Scorer, HardTop2MatchesPairByPairReferenceInInputOrder) {
  const auto moe = relmoe::test::make_tiny_moe("ref", relmoe::Routing::hard, 2);
  const auto pairs = relmoe::test::tiny_pairs(120);
  relmoe::ScoreOptions o;
  o.chunk = 50;  // several chunks, the last one short
  o.batching.token_budget = 600;
  const auto s = score(moe, pairs_file(moe, pairs), "ref.tsv", o);
  auto exact = o;
  exact.batch_invariant = true;
  exact.threads = 2;  // lanes of one thread each, the reference on this thread's count
  const auto e = score(moe, pairs_file(moe, pairs), "ref_exact.tsv", exact);
  const auto want = reference_scores(moe, pairs);
  const double bound = relmoe::test::batching_bound(moe);
  std::cout << "[ measured ] batching bound " << bound << "\n";
  ASSERT_EQ(s.rows.size(), pairs.size());
  ASSERT_EQ(e.rows.size(), pairs.size());
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    EXPECT_EQ(s.rows[i].first, pairs[i].id);
    EXPECT_NEAR(std::stof(s.rows[i].second), want[i], bound) << pairs[i].id;
    // Pair by pair, the scorer runs exactly the reference's computation: bit for bit.
    EXPECT_EQ(std::stof(e.rows[i].second), want[i]) << pairs[i].id;
  }
  // Top-2 of 3: each pair ran exactly two experts (before duplicate prompts were folded).
  std::int64_t routed = 0;
  for (const auto& l : s.stats.lanes) routed += l.pairs;
  EXPECT_EQ(routed, 2 * static_cast<std::int64_t>(pairs.size()));
  EXPECT_EQ(s.stats.pairs, 120);
  EXPECT_EQ(s.stats.chunks, 3);
}

TEST(Scorer, SerialParallelAndArrivalOrderBatchesAgree) {
  const auto moe = relmoe::test::make_tiny_moe("modes", relmoe::Routing::full);
  const auto input = pairs_file(moe, relmoe::test::tiny_pairs(90));
  relmoe::ScoreOptions parallel;
  parallel.chunk = 40;
  parallel.threads = 2;
  auto serial = parallel;
  serial.mode = relmoe::LaneMode::serial;
  auto arrival = parallel;
  arrival.batching.sort_by_length = false;
  const auto a = score(moe, input, "parallel.tsv", parallel);
  const auto b = score(moe, input, "serial.tsv", serial);
  const auto c = score(moe, input, "arrival.tsv", arrival);
  const double bound = relmoe::test::batching_bound(moe);
  expect_close(a.rows, b.rows, bound);
  expect_close(a.rows, c.rows, bound);
  EXPECT_LT(a.stats.padding().padded, c.stats.padding().padded);
  EXPECT_EQ(a.stats.padding().real, c.stats.padding().real);
}

TEST(Scorer, BatchInvariantScoresAreBitIdenticalAcrossChunksBudgetsThreadsAndModes) {
  const auto moe = relmoe::test::make_tiny_moe("invariant", relmoe::Routing::hard, 2);
  const auto input = pairs_file(moe, relmoe::test::tiny_pairs(90));
  relmoe::ScoreOptions base;
  base.batch_invariant = true;
  base.chunk = 40;
  base.threads = 2;
  auto serial = base;
  serial.mode = relmoe::LaneMode::serial;
  serial.threads = 1;
  auto other = base;
  other.chunk = 13;
  other.batching.token_budget = 64;
  other.batching.sort_by_length = false;
  const auto a = score(moe, input, "inv_a.tsv", base);
  EXPECT_EQ(a.rows, score(moe, input, "inv_serial.tsv", serial).rows);
  EXPECT_EQ(a.rows, score(moe, input, "inv_other.tsv", other).rows);
  // A cache that batched runs filled does not leak their hidden states into invariant ones.
  relmoe::ScoreOptions batched;
  batched.cache = moe.root / "inv_cache";
  fs::remove_all(batched.cache);
  score(moe, input, "inv_fill.tsv", batched);
  auto cached = base;
  cached.cache = batched.cache;
  EXPECT_EQ(a.rows, score(moe, input, "inv_cold.tsv", cached).rows);
  const auto warm = score(moe, input, "inv_warm.tsv", cached);
  EXPECT_EQ(a.rows, warm.rows);
  for (const auto& l : warm.stats.lanes) EXPECT_EQ(l.computed, 0);
}

TEST(Scorer, MatchesEvalOnTheFeatureStore) {
  const auto moe = relmoe::test::make_tiny_moe("eval", relmoe::Routing::hard, 2);
  const auto pairs = relmoe::test::tiny_pairs(80);
  const auto s = score(moe, pairs_file(moe, pairs), "eval.tsv");

  // The `relmoe embed` + `relmoe eval` path: f16 feature store, then predict().
  const auto store_dir = moe.root / "store";
  fs::remove_all(store_dir);
  relmoe::EmbedOptions eo;
  eo.progress = false;
  relmoe::embed_features(moe.experts, pairs, store_dir, eo);
  const auto store = relmoe::FeatureStore::open(store_dir);
  auto model = relmoe::load_model(moe.model);
  const auto set = relmoe::make_pair_set(store, pairs, model->config, "pairs", false);
  const auto pred = relmoe::predict(model, store, set);
  ASSERT_EQ(pred.scores.size(), s.rows.size());
  const double bound = relmoe::test::batching_bound(moe);
  for (std::size_t i = 0; i < pairs.size(); ++i) EXPECT_NEAR(std::stod(s.rows[i].second), pred.scores[i], bound) << i;
  // embed records each expert's directory; train copies it into the model (experts.json).
  EXPECT_EQ(store.experts()[0].dir, fs::absolute(moe.experts[0].dir).lexically_normal().string());
  const auto listed = relmoe::model_experts(store, model->config);
  EXPECT_EQ(listed[2].dir, store.experts()[2].dir);
}

// `relmoe embed` with `eo` into a fresh store, then experts.json written from it as `relmoe
// train` writes it; returns the `relmoe eval` scores (the store path) of the model on `pairs`.
std::vector<double> embed_then_eval(const TinyMoe& moe, const std::vector<relmoe::Pair>& pairs,
                                   const relmoe::EmbedOptions& eo, const fs::path& store_dir) {
  fs::remove_all(store_dir);
  relmoe::embed_features(moe.experts, pairs, store_dir, eo);
  const auto store = relmoe::FeatureStore::open(store_dir);
  auto model = relmoe::load_model(moe.model);
  relmoe::write_model_experts(moe.model, relmoe::model_experts(store, model->config));
  return relmoe::predict(model, store, relmoe::make_pair_set(store, pairs, model->config, "pairs", false)).scores;
}

// The largest |score - eval| over the pairs.
double largest_gap(const Scored& s, const std::vector<double>& eval) {
  double gap = 0;
  for (std::size_t i = 0; i < eval.size(); ++i) gap = std::max(gap, std::abs(std::stod(s.rows[i].second) - eval[i]));
  return gap;
}

// Features computed exactly as embed computed them (each prompt alone on both sides) leave only
// the MoE's own f32 rounding between `relmoe score` and `relmoe eval`.
constexpr double kSameFeatures = 1e-5;

TEST(Scorer, ATokenBudgetBelowThePromptsOnlyBatchesAndScoresEqualEval) {
  const auto moe = relmoe::test::make_tiny_moe("budget", relmoe::Routing::hard, 2);
  const auto pairs = relmoe::test::tiny_pairs(80);
  relmoe::EmbedOptions eo;
  eo.progress = false;
  eo.prompt_tokens = 24;  // shorter than many prompts: embed cuts them
  eo.batch = 1;
  const auto eval = embed_then_eval(moe, pairs, eo, moe.root / "store");
  const auto store = relmoe::FeatureStore::open(moe.root / "store");
  EXPECT_EQ(store.experts()[0].prompt_tokens, 24);
  EXPECT_EQ(store.experts()[0].run_dtype, "f32");
  EXPECT_EQ(relmoe::read_model_experts(moe.model)[1].prompt_tokens, 24);

  relmoe::ScoreOptions o;
  o.batching.token_budget = 16;  // below every cut prompt
  const auto batched = score(moe, pairs_file(moe, pairs), "budget.tsv", o);
  ASSERT_EQ(batched.rows.size(), pairs.size());
  std::int64_t truncated = 0;
  for (const auto& l : batched.stats.lanes) truncated += l.truncated;
  EXPECT_GT(truncated, 0);  // the cut mattered
  EXPECT_LE(largest_gap(batched, eval), relmoe::test::batching_bound(moe));
  o.batch_invariant = true;
  EXPECT_LE(largest_gap(score(moe, pairs_file(moe, pairs), "budget_exact.tsv", o), eval), kSameFeatures);

  // Without the recorded cut (an experts.json from before it was kept), prompts run whole and
  // the scores leave eval's: the record is what keeps them equal.
  auto listed = relmoe::read_model_experts(moe.model);
  for (auto& e : listed) e.prompt_tokens = 0;
  relmoe::write_model_experts(moe.model, listed);
  EXPECT_GT(largest_gap(score(moe, pairs_file(moe, pairs), "uncut.tsv", o), eval), 100 * kSameFeatures);

  // Resuming the store with another cut would mix two kinds of rows in a column.
  eo.prompt_tokens = 32;
  try {
    relmoe::embed_features(moe.experts, pairs, moe.root / "store", eo);
    ADD_FAILURE() << "no error";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("embedded in f32 with prompts cut at 24 tokens"), std::string::npos) << e.what();
  }
}

TEST(Scorer, RunsEachExpertInTheDtypeEmbedRanIt) {
  const auto moe = relmoe::test::make_tiny_moe("dtype", relmoe::Routing::full);
  const auto pairs = relmoe::test::tiny_pairs(40);
  relmoe::EmbedOptions eo;
  eo.progress = false;
  eo.run_dtype = torch::kBFloat16;
  eo.batch = 1;
  const auto eval = embed_then_eval(moe, pairs, eo, moe.root / "store");
  EXPECT_EQ(relmoe::read_model_experts(moe.model)[0].run_dtype, "bf16");
  relmoe::ScoreOptions o;
  o.batch_invariant = true;
  EXPECT_LE(largest_gap(score(moe, pairs_file(moe, pairs), "as_embedded.tsv", o), eval), kSameFeatures);
  o.run_dtype = torch::kFloat32;  // asked for explicitly: other features, other scores
  EXPECT_GT(largest_gap(score(moe, pairs_file(moe, pairs), "f32.tsv", o), eval), 100 * kSameFeatures);
}

TEST(Scorer, CacheServesRepeatedPromptsWithEqualScores) {
  const auto moe = relmoe::test::make_tiny_moe("cache", relmoe::Routing::full);
  const auto input = pairs_file(moe, relmoe::test::tiny_pairs(70));
  relmoe::ScoreOptions o;
  o.cache = moe.root / "cache";
  fs::remove_all(o.cache);
  const auto first = score(moe, input, "c1.tsv", o);
  const auto second = score(moe, input, "c2.tsv", o);
  const auto plain = score(moe, input, "c3.tsv");
  for (const auto& l : second.stats.lanes) {
    EXPECT_EQ(l.computed, 0);
    EXPECT_GT(l.cache_hits, 0);
  }
  // Repeated pairs (every 7th) are computed once even on a cold cache.
  for (const auto& l : first.stats.lanes) EXPECT_LT(l.computed, 70);
  EXPECT_EQ(first.rows, second.rows);
  expect_close(first.rows, plain.rows, 0.0);
}

TEST(Scorer, UnseenMarketIsRejectedWithItsLine) {
  const auto moe = relmoe::test::make_tiny_moe("market", relmoe::Routing::hard, 1);
  auto pairs = relmoe::test::tiny_pairs(10);
  pairs[4].market = "m-zz";
  const auto input = pairs_file(moe, pairs);
  try {
    score(moe, input, "m1.tsv");
    ADD_FAILURE() << "no error";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("pairs.tsv:6"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("m-zz"), std::string::npos) << e.what();
  }
  relmoe::ScoreOptions o;
  o.skip_bad = true;
  const auto s = score(moe, input, "m2.tsv", o);
  EXPECT_EQ(s.rows.size(), 9u);
  EXPECT_EQ(s.stats.rejected, 1);
  const auto rejects = relmoe::test::read_text(relmoe::rejects_path(moe.root / "m2.tsv"));
  EXPECT_NE(rejects.find("6\tp4\t"), std::string::npos) << rejects;
}

TEST(Scorer, ExpertDirectoriesComeFromTheModelOrOverrides) {
  const auto moe = relmoe::test::make_tiny_moe("resolve", relmoe::Routing::full);
  const std::vector<std::string> names = {"e0", "e1", "e2"};
  auto specs = relmoe::resolve_experts(moe.model, names, {{"e1", "/elsewhere/e1"}});
  EXPECT_EQ(specs[0].dir, fs::absolute(moe.experts[0].dir).lexically_normal());
  EXPECT_EQ(specs[1].dir, "/elsewhere/e1");
  EXPECT_THROW(relmoe::resolve_experts(moe.model, names, {{"e9", "/x"}}), relmoe::Error);
  fs::remove(moe.model / "experts.json");
  try {
    relmoe::resolve_experts(moe.model, names, {});
    ADD_FAILURE() << "no error";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("--expert e0=DIR"), std::string::npos) << e.what();
  }
}
