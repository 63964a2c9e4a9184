// The lexical expert: cross-fitted features never depend on a training pair's own label, a saved
// expert reproduces its outputs, and on the real markets it scores like the character n-gram
// logistic regression a relevance team runs (about 71 % AUC on held-out pairs).
#include "models/lexical_expert.hpp"
#include "models/open_expert.hpp"

#include "base/error.hpp"
#include "eval/auc.hpp"
#include "io/feature_store.hpp"
#include "io/pair_reader.hpp"
#include "io/pair_writer.hpp"
#include "models/random_expert.hpp"
#include "support.hpp"
#include "synth/synth.hpp"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <map>
#include <sstream>

namespace {

std::vector<relmoe::Pair> synthetic_train() {
  relmoe::synth::Options o;
  o.markets = 3;
  o.pairs = 900;
  o.seed = 4;
  return relmoe::synth::generate(o).train;
}

// A fresh `dir` with a synthetic data set of three markets (train/dev/test.tsv) and all.tsv.
relmoe::synth::Dataset write_synthetic(const std::filesystem::path& dir, std::uint64_t seed) {
  std::filesystem::remove_all(dir);
  relmoe::synth::Options o;
  o.markets = 3;
  o.pairs = 1500;
  o.seed = seed;
  auto data = relmoe::synth::generate(o);
  relmoe::synth::write_dataset(data, dir);
  auto all = data.train;
  all.insert(all.end(), data.dev.begin(), data.dev.end());
  all.insert(all.end(), data.test.begin(), data.test.end());
  relmoe::write_pairs(dir / "all.tsv", all);
  return data;
}

relmoe::LexicalConfig small_config() {
  relmoe::LexicalConfig c;
  c.hash_bits = 14;
  c.sketch = 8;
  c.max_iter = 40;
  return c;
}

}  // namespace

TEST(LexicalExpert, TrainingFeaturesAreOutOfFold) {
  auto train = synthetic_train();
  const auto config = small_config();
  const auto before = relmoe::cross_fit(train, train, config).output;
  const std::size_t flipped = 17;
  train[flipped].label = 1.0f - *train[flipped].label;
  const auto after = relmoe::cross_fit(train, train, config).output;
  // The pair's own row is unchanged: its logit comes from models that never saw it...
  EXPECT_TRUE(torch::equal(before.last_hidden[flipped], after.last_hidden[flipped]));
  EXPECT_EQ(before.score[flipped].item<float>(), after.score[flipped].item<float>());
  // ...while the label did reach the models of the other folds.
  EXPECT_FALSE(torch::equal(before.score, after.score));
}

TEST(LexicalExpert, SavedExpertGivesTheSameOutputs) {
  const auto train = synthetic_train();
  std::vector<const relmoe::Pair*> ptrs;
  for (const auto& p : train) ptrs.push_back(&p);
  const auto expert = relmoe::LexicalExpert::fit(ptrs, small_config());
  const auto dir = relmoe::test::scratch_dir() / "lexical_expert";
  expert.save(dir);
  ASSERT_TRUE(relmoe::expert_kind(dir) == relmoe::ExpertKind::Lexical);
  const auto back = relmoe::LexicalExpert::load(dir);
  const auto a = expert.run(ptrs), b = back.run(ptrs);
  EXPECT_EQ(a.last_hidden.size(1), expert.width());
  EXPECT_TRUE(torch::equal(a.last_hidden, b.last_hidden));
  EXPECT_TRUE(torch::equal(a.score, b.score));
}

// A config.json edited by hand is refused before any work, naming the file and the field: a
// max_n of two billion used to run CPU-bound for minutes, a sketch of INT_MAX overflowed width().
TEST(LexicalExpert, OutOfRangeConfigFieldsAreRefusedNamingTheField) {
  const auto train = synthetic_train();
  std::vector<const relmoe::Pair*> ptrs;
  for (const auto& p : train) ptrs.push_back(&p);
  const auto dir = relmoe::test::scratch_dir() / "lexical_expert_edited";
  relmoe::LexicalExpert::fit(ptrs, small_config()).save(dir);
  std::ifstream in(dir / "config.json");
  const auto saved = nlohmann::json::parse(in);
  const std::vector<std::pair<std::string, nlohmann::json>> edits = {
      {"max_n", 2000000000}, {"sketch", 2147483647}, {"min_n", 0},       {"max_chars", -1},
      {"hash_bits", 40},     {"max_n", "4"},         {"sketch", 4e12},   {"min_n", nullptr}};
  for (const auto& [field, value] : edits) {
    auto edited = saved;
    edited[field] = value;
    std::ofstream(dir / "config.json") << edited.dump();
    const auto started = std::chrono::steady_clock::now();
    try {
      relmoe::open_expert(dir, {});
      ADD_FAILURE() << field << " = " << value.dump() << " was accepted";
    } catch (const relmoe::Error& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("config.json"), std::string::npos) << what;
      EXPECT_NE(what.find("'" + field + "'"), std::string::npos) << what;
    }
    EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count(), 1.0);
  }
  // A null model_type is not the lexical expert's: the decoder reader names the field.
  auto untyped = saved;
  untyped["model_type"] = nullptr;
  std::ofstream(dir / "config.json") << untyped.dump();
  try {
    relmoe::open_expert(dir, {});
    ADD_FAILURE() << "a null model_type was accepted";
  } catch (const relmoe::Error& e) {
    EXPECT_NE(std::string(e.what()).find("'model_type'"), std::string::npos) << e.what();
  }
}

TEST(LexicalExpert, ScoresTheRealMarketsLikeACharacterNgramModel) {
  RELMOE_REQUIRE_SHARED("data/relevance/train.tsv");
  const auto train = relmoe::read_pairs(relmoe::test::shared_dir() / "data/relevance/train.tsv");
  const auto dev = relmoe::read_pairs(relmoe::test::shared_dir() / "data/relevance/dev.tsv");
  std::vector<const relmoe::Pair*> train_ptrs, dev_ptrs;
  for (const auto& p : train) train_ptrs.push_back(&p);
  for (const auto& p : dev) dev_ptrs.push_back(&p);
  const auto expert = relmoe::LexicalExpert::fit(train_ptrs, {});
  const auto scores = expert.run(dev_ptrs).score.to(torch::kFloat64).contiguous();
  std::vector<double> s(scores.data_ptr<double>(), scores.data_ptr<double>() + scores.numel());
  std::vector<float> labels;
  for (const auto& p : dev) labels.push_back(*p.label);
  const double auc = relmoe::roc_auc(s, labels);
  std::cout << "lexical expert dev AUC " << auc << "\n";
  EXPECT_GT(auc, 0.68);
}

// Through the binary: embed fits the expert (and refuses without --train), train fuses its
// column, and `relmoe score` runs the saved expert to the same scores the trained model gives.
TEST(LexicalExpert, EmbedTrainScoreThroughTheBinary) {
  const auto dir = relmoe::test::scratch_dir() / "lexical_cli";
  const auto data = write_synthetic(dir, 7);
  const std::string bin = relmoe::test::binary().string(), d = dir.string();
  auto missing = relmoe::test::run_command(bin + " embed --expert lex=builtin:lexical --data " + d + "/all.tsv --out " +
                                           d + "/store");
  EXPECT_NE(missing.status, 0);
  EXPECT_NE(missing.output.find("--train"), std::string::npos) << missing.output;
  for (const std::string cmd :
       {" embed --expert lex=builtin:lexical --train " + d + "/train.tsv --data " + d + "/all.tsv --out " + d + "/store",
        " train --features " + d + "/store --data " + d + "/train.tsv --dev " + d + "/dev.tsv --routing full " +
            "--no-progress --threads 1 --out " + d + "/model",
        " eval --model " + d + "/model --features " + d + "/store --data " + d + "/test.tsv --resamples 10 --report " + d +
            "/eval.json",
        " score --model " + d + "/model --input " + d + "/test.tsv --output " + d + "/scores.tsv --quiet"}) {
    auto r = relmoe::test::run_command(bin + cmd);
    ASSERT_EQ(r.status, 0) << cmd << "\n" << r.output;
  }
  EXPECT_TRUE(relmoe::expert_kind(dir / "store" / "lex.lexical") == relmoe::ExpertKind::Lexical);
  std::map<std::string, float> label;
  for (const auto& p : data.test) label[p.id] = *p.label;
  std::vector<double> scores;
  std::vector<float> labels;
  std::ifstream in(dir / "scores.tsv");
  std::string id;
  double score;
  std::getline(in, id);
  while (in >> id >> score) {
    scores.push_back(score);
    labels.push_back(label.at(id));
  }
  ASSERT_EQ(scores.size(), data.test.size());
  const auto report = nlohmann::json::parse(std::ifstream(dir / "eval.json"));
  EXPECT_NEAR(relmoe::roc_auc(scores, labels), report.at("overall").at("auc").get<double>(), 1e-9);
}

// The lexical expert as a shared margin expert beside a (random) LLM expert routed hard:
// `train --shared --margin --market-residual` keeps a factor per market, and where it is 0 the
// batch scorer runs only the lexical expert and scores exactly its logit.
TEST(LexicalExpert, SharedMarginExpertThroughTheBinary) {
  const auto dir = relmoe::test::scratch_dir() / "lexical_margin_cli";
  const auto data = write_synthetic(dir, 11);
  for (int e = 0; e < 2; ++e) {
    relmoe::RandomExpertOptions r;
    r.arch = e == 0 ? "qwen2" : "llama";
    r.seed = 21 + static_cast<std::uint64_t>(e);
    relmoe::write_random_expert(dir / ("r" + std::to_string(e)), r);
  }
  const std::string bin = relmoe::test::binary().string(), d = dir.string();
  const std::string train = " train --features " + d + "/store --data " + d + "/train.tsv --dev " + d +
                            "/dev.tsv --routing hard --k 1 --no-progress --threads 1 ";
  auto embed = relmoe::test::run_command(bin + " embed --expert lex=builtin:lexical --expert r0=" + d +
                                         "/r0 --expert r1=" + d + "/r1 --train " + d + "/train.tsv --data " + d +
                                         "/all.tsv --out " + d + "/store --threads 1");
  ASSERT_EQ(embed.status, 0) << embed.output;
  auto not_feature = relmoe::test::run_command(bin + train + "--margin r0 --out " + d + "/bad");
  EXPECT_NE(not_feature.status, 0);
  EXPECT_NE(not_feature.output.find("--margin 'r0'"), std::string::npos) << not_feature.output;
  auto no_margin = relmoe::test::run_command(bin + train + "--market-residual --out " + d + "/bad");
  EXPECT_NE(no_margin.status, 0);
  EXPECT_NE(no_margin.output.find("--market-residual"), std::string::npos) << no_margin.output;
  auto trained = relmoe::test::run_command(bin + train + "--shared lex --margin lex --market-residual --out " + d +
                                           "/model");
  ASSERT_EQ(trained.status, 0) << trained.output;

  auto config = nlohmann::json::parse(std::ifstream(dir / "model" / "config.json"));
  EXPECT_EQ(config.at("shared"), nlohmann::json::array({"lex"}));
  const auto factors = config.at("market_residual").get<std::map<std::string, double>>();
  ASSERT_EQ(factors.size(), 3U);
  for (const auto& [market, f] : factors) EXPECT_TRUE(f == 0 || f == 0.5 || f == 1) << market << " " << f;
  // Whatever dev chose, turn the first market's correction off and score.
  const std::string off = factors.begin()->first;
  config["market_residual"][off] = 0.0;
  std::ofstream(dir / "model" / "config.json") << config.dump(1);
  auto scored = relmoe::test::run_command(bin + " score --model " + d + "/model --input " + d + "/test.tsv --output " +
                                          d + "/scores.tsv --with-experts --quiet");
  ASSERT_EQ(scored.status, 0) << scored.output;

  const auto store = relmoe::FeatureStore::open(dir / "store");
  std::map<std::string, const relmoe::Pair*> by_id;
  for (const auto& p : data.test) by_id[p.id] = &p;
  std::ifstream in(dir / "scores.tsv");
  std::string line;
  std::getline(in, line);
  int in_off = 0, elsewhere_with_llm = 0;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string id, experts;
    double score = 0;
    fields >> id >> score >> experts;
    const auto* pair = by_id.at(id);
    if (pair->market == off) {
      ++in_off;
      EXPECT_EQ(experts, "lex") << id;
      const auto lexical = store.scores(store.expert_index("lex"), torch::tensor({store.row(id)}))[0].item<double>();
      EXPECT_NEAR(score, lexical, 1e-4) << id;
    } else {
      EXPECT_NE(experts.find("lex"), std::string::npos) << id << ": the shared expert runs for every pair";
      elsewhere_with_llm += experts.find(",r") != std::string::npos ? 1 : 0;
    }
  }
  EXPECT_GT(in_off, 0);
  // Other markets at factor 1 or 1/2 run an LLM expert beside it; one at 0 would not.
  if (std::any_of(std::next(factors.begin()), factors.end(), [](const auto& f) { return f.second > 0; }))
    EXPECT_GT(elsewhere_with_llm, 0);
}
