// End to end through the binary: train -> eval -> ablate on a small synthetic store, the report
// JSON contract, and one-line errors for bad inputs.
#include "io/feature_store.hpp"
#include "io/pair_reader.hpp"
#include "io/pair_writer.hpp"
#include "support.hpp"
#include "text/read_file.hpp"

#include <torch/utils.h>
#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <fstream>

namespace fs = std::filesystem;

namespace {

relmoe::test::CommandResult run(const std::string& args) {
  return relmoe::test::run_command(relmoe::test::binary().string() + " " + args);
}

// Expert "a" separates labels in market x, "b" in market y.
fs::path make_fixture() {
  const auto dir = relmoe::test::scratch_dir() / "relmoe_cli_fixture";
  fs::remove_all(dir);
  fs::create_directories(dir);
  torch::manual_seed(5);
  std::vector<relmoe::Pair> splits[3];
  std::vector<std::string> ids;
  std::vector<torch::Tensor> a, b;
  std::vector<float> score;
  for (int s = 0; s < 3; ++s)
    for (int i = 0; i < 300; ++i) {
      relmoe::Pair p;
      p.id = "p" + std::to_string(s) + "_" + std::to_string(i);
      p.market = i % 2 ? "y" : "x";
      p.query = "query " + std::to_string(i % 17);
      p.item = "item " + std::to_string(i % 23);
      const float y = static_cast<float>((i / 2) % 2);
      p.label = y;
      splits[s].push_back(p);
      ids.push_back(p.id);
      auto signal = torch::randn({4}) + 1.5 * (2 * y - 1);
      a.push_back(i % 2 ? torch::randn({4}) : signal);
      b.push_back(i % 2 ? signal : torch::randn({4}));
      score.push_back(y + static_cast<float>(i % 5));
    }
  relmoe::FeatureStoreWriter w(dir / "store", ids,
                               {{{"a", {}, 4}, torch::kFloat16, true, 0}, {{"b", {}, 4}, torch::kFloat32, false, 0}});
  w.append("a", torch::stack(a), torch::tensor(score));
  w.append("b", torch::stack(b));
  w.commit();
  relmoe::write_pairs(dir / "train.tsv", splits[0]);
  relmoe::write_pairs(dir / "dev.tsv", splits[1]);
  relmoe::write_pairs(dir / "test.tsv", splits[2]);
  return dir;
}

}  // namespace

TEST(EvalCli, TrainEvalAblateWriteTheReportContract) {
  const auto d = make_fixture();
  const std::string common = " --features " + (d / "store").string() + " --dim 8 --hidden 16 --lr 3e-3 --batch 32 "
                             "--epochs 3 --no-progress --threads 1";
  auto train = run("train" + common + " --data " + (d / "train.tsv").string() + " --dev " + (d / "dev.tsv").string() +
                   " --routing hard --fusion concat --k 1 --out " + (d / "model").string());
  ASSERT_EQ(train.status, 0) << train.output;
  EXPECT_TRUE(fs::exists(d / "model" / "config.json"));
  EXPECT_TRUE(fs::exists(d / "model" / "model.safetensors"));

  auto eval = run("eval --model " + (d / "model").string() + " --features " + (d / "store").string() + " --data " +
                  (d / "test.tsv").string() + " --report " + (d / "report.json").string() + " --resamples 50");
  ASSERT_EQ(eval.status, 0) << eval.output;
  EXPECT_NE(eval.output.find("| overall |"), std::string::npos) << eval.output;
  const auto report = nlohmann::json::parse(std::ifstream(d / "report.json"));
  EXPECT_EQ(report.at("overall").at("n").get<int>(), 300);
  EXPECT_EQ(report.at("overall").at("ci").size(), 2u);
  EXPECT_EQ(report.at("markets").size(), 2u);
  EXPECT_DOUBLE_EQ(report.at("active_experts").get<double>(), 1.0);
  const double ux = report.at("usage").at("x").at("a").get<double>() + report.at("usage").at("x").at("b").get<double>();
  EXPECT_DOUBLE_EQ(ux, 1.0);

  auto single = run("eval --single a --features " + (d / "store").string() + " --data " + (d / "test.tsv").string() +
                    " --resamples 20");
  ASSERT_EQ(single.status, 0) << single.output;

  auto ablate = run("ablate" + common + " --data " + (d / "train.tsv").string() + " --dev " + (d / "dev.tsv").string() +
                    " --test " + (d / "test.tsv").string() + " --resamples 20 --out " + (d / "ablation").string());
  ASSERT_EQ(ablate.status, 0) << ablate.output;
  const auto grid = nlohmann::json::parse(std::ifstream(d / "ablation" / "ablation.json"));
  for (const char* name : {"single:a", "probe:a", "probe:b", "fusion:a+b", "full:concat", "full:weighted",
                           "moe:hard:concat", "moe:hard:weighted", "moe:soft:concat", "moe:pseudo:concat",
                           "moe:rule:concat"})
    EXPECT_TRUE(grid.at("variants").contains(name)) << name;
  EXPECT_FALSE(grid.at("variants").contains("single:b"));  // b has no score column
  EXPECT_TRUE(grid.at("variants").at("moe:rule:concat").at("overall").contains("auc"));
  EXPECT_NE(ablate.output.find("Routing strategies"), std::string::npos);
}

TEST(EvalCli, BadInputsAreOneLineErrors) {
  const auto d = make_fixture();
  const std::string store = " --features " + (d / "store").string();
  auto model = run("train" + store + " --data " + (d / "train.tsv").string() + " --dev " + (d / "dev.tsv").string() +
                   " --routing hard --k 3 --out " + (d / "m").string() + " --no-progress");
  EXPECT_NE(model.status, 0);
  EXPECT_NE(model.output.find("--k: 3 is not between 1 and the number of experts (2)"), std::string::npos)
      << model.output;

  std::ofstream(d / "empty.tsv") << "id\tmarket\tquery\titem\tlabel\n";
  auto empty = run("train" + store + " --data " + (d / "empty.tsv").string() + " --dev " + (d / "dev.tsv").string() +
                   " --out " + (d / "m").string());
  EXPECT_NE(empty.status, 0);
  EXPECT_NE(empty.output.find("holds no pairs"), std::string::npos) << empty.output;

  std::ofstream(d / "other.tsv") << "id\tmarket\tquery\titem\tlabel\nzz1\tx\tq\ti\t1\n";
  auto other = run("eval --single a" + store + " --data " + (d / "other.tsv").string());
  EXPECT_NE(other.status, 0);
  EXPECT_NE(other.output.find("no pair id 'zz1'"), std::string::npos) << other.output;
  EXPECT_EQ(std::count(other.output.begin(), other.output.end(), '\n'), 1) << other.output;

  auto no_store = run("eval --single a --features /nonexistent --data " + (d / "test.tsv").string());
  EXPECT_NE(no_store.status, 0);
  EXPECT_NE(no_store.output.find("/nonexistent/manifest.json"), std::string::npos) << no_store.output;
}

// Every command that reads pairs takes TSV, CSV and JSON Lines with --columns: the same pairs in
// three formats with other column names give the same report and the same trained model.
TEST(EvalCli, EveryPairFormatGivesTheSameResult) {
  const auto d = make_fixture();
  const std::string store = " --features " + (d / "store").string();
  const auto tsv = relmoe::read_pairs(d / "test.tsv");
  {
    std::ofstream csv(d / "test.csv"), jsonl(d / "test.jsonl");
    csv << "pair,shop,q,title,rel\n";
    for (const auto& p : tsv) {
      csv << p.id << "," << p.market << ",\"" << p.query << "\"," << p.item << "," << *p.label << "\n";
      jsonl << nlohmann::json{{"pair", p.id}, {"shop", p.market}, {"q", p.query}, {"title", p.item},
                              {"rel", *p.label == 1.0f}}.dump()
            << "\n";
    }
  }
  const std::string columns = " --columns id=pair,market=shop,query=q,item=title,label=rel";
  std::vector<nlohmann::json> reports;
  for (const std::string file : {"test.tsv", "test.csv", "test.jsonl"}) {
    const auto out = d / (file + ".report.json");
    auto r = run("eval --single a" + store + " --data " + (d / file).string() + " --resamples 20 --report " +
                 out.string() + (file == "test.tsv" ? std::string() : columns));
    ASSERT_EQ(r.status, 0) << file << ": " << r.output;
    reports.push_back(nlohmann::json::parse(std::ifstream(out)));
  }
  EXPECT_EQ(reports[0], reports[1]);
  EXPECT_EQ(reports[0], reports[2]);

  const std::string train = "train" + store + " --dim 8 --hidden 16 --epochs 2 --no-progress --threads 1 --k 1";
  for (const std::string file : {"test.tsv", "test.csv"}) {
    const auto path = (d / file).string();
    auto r = run(train + " --data " + path + " --dev " + path + " --out " + (d / ("m_" + file)).string() +
                 (file == "test.tsv" ? std::string() : columns));
    ASSERT_EQ(r.status, 0) << file << ": " << r.output;
  }
  EXPECT_EQ(relmoe::read_file(d / "m_test.tsv" / "model.safetensors"),
            relmoe::read_file(d / "m_test.csv" / "model.safetensors"));
}
