// `relmoe experiment` end to end on a small synthetic data set with briefly trained experts: an
// interrupted first run leaves no report; the rerun resumes to a report.json that follows the
// contract and whose models feed `relmoe eval` again; `relmoe report` re-renders the same page.
#include "io/pair_reader.hpp"
#include "support.hpp"

#include <nlohmann/json.hpp>

#include <array>
#include <cstdio>
#include <fstream>
#include <map>

namespace fs = std::filesystem;

namespace {

relmoe::test::CommandResult run(const std::string& command) { return relmoe::test::run_command(command); }

std::string bin() { return relmoe::test::binary().string(); }

nlohmann::json read_json(const fs::path& p) {
  std::ifstream in(p);
  return nlohmann::json::parse(in);
}

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  return {std::istreambuf_iterator<char>(in), {}};
}

}  // namespace

TEST(ExperimentCli, InterruptedRunResumesToAReportThatFeedsEval) {
  const auto dir = relmoe::test::scratch_dir() / "relmoe_experiment_cli";
  fs::remove_all(dir);
  auto synth = run(bin() + " data synth --markets 3 --pairs 700 --seed 3 --out " + (dir / "in").string());
  ASSERT_EQ(synth.status, 0) << synth.output;
  const auto out = dir / "run";
  const std::string experiment =
      bin() + " experiment --train " + (dir / "in/train.tsv").string() + " --test " + (dir / "in/test.tsv").string() +
      " --corpus " + (dir / "in/corpus.txt").string() + " --out " + out.string() +
      " --expert-steps 8 --pretrain-steps 4 --epochs 2 --dim 16 --hidden 16 --resamples 50 --tsne-points 80"
      " --student-steps 20 --threads 1 --no-progress";

  // Interrupted (SIGTERM: a background job of a non-interactive shell ignores SIGINT) once the
  // feature store has its first commit, i.e. inside the embedding or ablation stage, never after
  // the report: whatever it had written, no report looks finished.
  const auto first = run("(" + experiment + " & pid=$!; while kill -0 $pid 2>/dev/null && [ ! -e " +
                         (out / "features/manifest.json").string() +
                         " ]; do sleep 0.02; done; kill -TERM $pid; wait $pid; echo \"exit=$?\")");
  ASSERT_NE(first.output.find("exit=143"), std::string::npos) << "the first run was not interrupted:\n" << first.output;
  EXPECT_FALSE(fs::exists(out / "report.json"));
  EXPECT_FALSE(fs::exists(out / "report.html"));
  const auto second = run(experiment);
  ASSERT_EQ(second.status, 0) << second.output;

  // report.json: the ablation contract, every variant of the grid.
  const auto report = read_json(out / "report.json");
  std::vector<std::string> names;
  for (const auto& e : {"qwen2-tiny", "llama-tiny", "gemma2-small", "lexical"}) {
    names.push_back(std::string("single:") + e);
    names.push_back(std::string("probe:") + e);
  }
  for (const auto& n : {"fusion:qwen2-tiny+llama-tiny", "fusion:qwen2-tiny+gemma2-small", "fusion:llama-tiny+gemma2-small",
                        "fusion:qwen2-tiny+lexical", "mlp:lexical", "llm:full:concat", "llm:moe:hard:concat", "full:concat",
                        "full:weighted", "moe:hard:concat", "moe:hard:weighted", "moe:soft:concat", "moe:pseudo:concat",
                        "moe:rule:concat", "moe:cost:0.1", "moe:cost:3"})
    names.push_back(n);
  for (const auto& n : names) {
    ASSERT_TRUE(report["variants"].contains(n)) << n;
    const auto& v = report["variants"][n];
    for (const auto& key : {"overall", "markets", "usage", "active_experts"}) EXPECT_TRUE(v.contains(key)) << n << " " << key;
    EXPECT_EQ(v["markets"].size(), 3u) << n;
    EXPECT_EQ(v["overall"]["ci"].size(), 2u);
    EXPECT_GT(v["mean_cost_s"].get<double>(), 0.0) << n;  // every expert's cost was measured
  }
  // The lexical expert is every all-expert variant's margin, a shared expert outside routing, and
  // markets whose correction dev turned off (factor 0) run it alone. Full fusion then costs the
  // lexical expert for every pair and the LLM experts for the pairs of the other markets.
  std::map<std::string, double> share;  // test pairs per market with the correction on
  const auto test = relmoe::read_pairs(out / "data/test.tsv");
  const auto full_config = read_json(out / "ablation/models/full-concat/config.json");
  const auto hard_config = read_json(out / "ablation/models/moe-hard-concat/config.json");
  EXPECT_EQ(full_config["margin"], nlohmann::json::array({"lexical"}));
  EXPECT_TRUE(full_config["shared"].empty()) << "full fusion does not route";
  EXPECT_EQ(hard_config["shared"], nlohmann::json::array({"lexical"}));
  EXPECT_TRUE(hard_config["market_classifier"].get<bool>());
  auto corrected = [&](const nlohmann::json& config) {
    double n = 0;
    for (const auto& p : test) n += config["market_residual"].value(p.market, 1.0) > 0 ? 1 : 0;
    return n / static_cast<double>(test.size());
  };
  double llm = 0;
  for (const auto& e : {"qwen2-tiny", "llama-tiny", "gemma2-small"})
    llm += report["variants"][std::string("probe:") + e]["mean_cost_s"].get<double>();
  const double lexical_cost = report["variants"]["probe:lexical"]["mean_cost_s"].get<double>();
  EXPECT_NEAR(report["variants"]["full:concat"]["mean_cost_s"].get<double>(),
              lexical_cost + corrected(full_config) * llm, 1e-9);
  EXPECT_LT(report["variants"]["probe:lexical"]["mean_cost_s"].get<double>(),
            report["variants"]["probe:llama-tiny"]["mean_cost_s"].get<double>() / 5);
  // The headline rows: the lexical expert alone, the LLM experts alone, all experts.
  EXPECT_EQ(report["comparisons"]["lexical"], "single:lexical");
  EXPECT_TRUE(report["comparisons"].contains("all_vs_lexical"));
  EXPECT_TRUE(report["comparisons"].contains("all_vs_llm_moe"));
  EXPECT_GE(report["comparisons"]["headline"].size(), 6u);
  EXPECT_TRUE(report["capacity"].empty());  // --dim/--hidden given: no capacity grid
  // Hard routing: the shared lexical expert and k = 2 of the three LLM experts where corrected.
  EXPECT_NEAR(report["variants"]["moe:hard:concat"]["active_experts"].get<double>(), 1.0 + 2.0 * corrected(hard_config),
              1e-9);
  EXPECT_TRUE(report["comparisons"].contains("moe_vs_best_single"));
  EXPECT_TRUE(report["comparisons"].contains("concat_vs_weighted"));
  ASSERT_EQ(report["experts"].size(), 4u);
  std::set<std::string> families;
  for (const auto& e : report["experts"]) families.insert(e["family"].get<std::string>());
  EXPECT_EQ(families, (std::set<std::string>{"qwen2", "llama", "gemma2", "lexical"}));
  EXPECT_TRUE(fs::exists(out / "features/lexical.lexical/model.safetensors"));
  // The dev set was split off train by (market, query): none in both.
  std::set<std::string> train_queries;
  for (const auto& p : relmoe::read_pairs(out / "data/train.tsv")) train_queries.insert(p.market + "\t" + p.query);
  const auto dev = relmoe::read_pairs(out / "data/dev.tsv");
  EXPECT_FALSE(dev.empty());
  for (const auto& p : dev) EXPECT_FALSE(train_queries.count(p.market + "\t" + p.query)) << p.query;

  // Table 3: the MoE-taught student first, then the single-expert-taught and the label-trained one.
  const auto& students = report["students"]["students"];
  ASSERT_EQ(students.size(), 3u) << report["students"].dump();
  EXPECT_EQ(students[0]["name"].get<std::string>().rfind("moe-taught (moe:hard:concat)", 0), 0u);
  EXPECT_EQ(students[1]["name"].get<std::string>().rfind("single-expert-taught (probe:", 0), 0u);
  EXPECT_EQ(students[2]["name"], "label-trained (labels)");
  EXPECT_TRUE(students[1].contains("vs_first"));
  EXPECT_TRUE(students[0]["bad_ratio"].contains("10"));
  EXPECT_TRUE(fs::exists(out / "students/moe-taught/encoder/model.safetensors"));

  // The run directory feeds `relmoe eval` again: the same model scores the same AUC.
  const auto eval = run(bin() + " eval --model " + (out / "ablation/models/moe-hard-concat").string() + " --features " +
                        (out / "features").string() + " --data " + (out / "data/test.tsv").string() +
                        " --resamples 50 --threads 1 --report " + (dir / "eval.json").string());
  ASSERT_EQ(eval.status, 0) << eval.output;
  EXPECT_DOUBLE_EQ(read_json(dir / "eval.json")["overall"]["auc"].get<double>(),
                   report["variants"]["moe:hard:concat"]["overall"]["auc"].get<double>());

  // The page has its charts, and re-rendering it from the run directory gives the same bytes.
  const auto page = read_text(out / "report.html");
  EXPECT_NE(page.find("id=\"figure3\""), std::string::npos);
  EXPECT_NE(page.find("id=\"table3\""), std::string::npos);
  auto rerender = run(bin() + " report --run " + out.string() + " --threads 1 --no-progress");
  ASSERT_EQ(rerender.status, 0) << rerender.output;
  EXPECT_EQ(read_text(out / "report.html"), page);
  fs::remove_all(dir);
}

TEST(ExperimentCli, UserErrorsAreOneLine) {
  const auto dir = relmoe::test::scratch_dir() / "relmoe_experiment_cli_errors";
  fs::remove_all(dir);
  fs::create_directories(dir);
  std::ofstream(dir / "train.tsv") << "id\tmarket\tquery\titem\tlabel\n1\tm\tq\ti\t1\n";
  std::ofstream(dir / "test.tsv") << "id\tmarket\tquery\titem\n1\tm\tq\ti\n";
  const auto r = run(bin() + " experiment --train " + (dir / "train.tsv").string() + " --dev " +
                     (dir / "train.tsv").string() + " --test " + (dir / "test.tsv").string() + " --out " +
                     (dir / "run").string());
  EXPECT_NE(r.status, 0);
  EXPECT_NE(r.output.find("test.tsv: pair '1' has no label"), std::string::npos) << r.output;
  EXPECT_FALSE(fs::exists(dir / "run/data/manifest.json"));
  fs::remove_all(dir);
}
