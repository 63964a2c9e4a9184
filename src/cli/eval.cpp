// relmoe eval: AUC overall and per market with bootstrap intervals, and expert usage.
#include "cli/command.hpp"
#include "cli/pair_input.hpp"
#include "cli/thread_option.hpp"
#include "io/json_file.hpp"
#include "io/scored_pairs.hpp"

#include "base/error.hpp"
#include "eval/report.hpp"
#include "io/feature_store.hpp"
#include "moe/model_eval.hpp"
#include "runtime/compute.hpp"

#include <iostream>
#include <optional>

namespace relmoe::cli {
namespace {

struct EvalArgs {
  PairInput input;
  std::string model, single, features, data, report, scores;
  int resamples = 1000;
  std::uint64_t seed = 0;
  int threads = 2;
  std::optional<double> budget;
};

// The expert's own answer-token score column as the relevance score.
EvalInput single_expert_input(const FeatureStore& store, const std::string& expert, const std::vector<Pair>& pairs,
                              const std::string& source) {
  const int column = store.expert_index(expert);
  EvalInput in;
  in.experts = {expert};
  in.costs = {store.experts()[column].cost};
  std::vector<std::int64_t> rows;
  for (const auto& p : pairs) {
    if (!p.label) fail(source, "pair '" + p.id + "' has no label");
    rows.push_back(store.row(p.id));
    in.labels.push_back(*p.label);
    in.markets.push_back(p.market);
    in.active.push_back(1);
  }
  const auto s = store.scores(column, torch::tensor(rows)).to(torch::kFloat64).contiguous();
  in.scores.assign(s.data_ptr<double>(), s.data_ptr<double>() + s.numel());
  return in;
}

int run(const EvalArgs& a) {
  set_threads(a.threads);
  if (a.model.empty() == a.single.empty()) fail("relmoe eval", "give exactly one of --model or --single");
  const auto store = FeatureStore::open(a.features);
  const auto pairs = a.input.read(a.data);
  if (pairs.empty()) fail(a.data, "holds no pairs");
  EvalInput input;
  if (!a.single.empty()) {
    input = single_expert_input(store, a.single, pairs, a.data);
  } else {
    input = model_eval_input(a.model, store, pairs, a.data, a.budget);
  }
  if (!a.scores.empty()) {
    ScoredPairs scored{{}, input.markets, input.labels, input.scores};
    for (const auto& p : pairs) scored.ids.push_back(p.id);
    write_scored_pairs(a.scores, scored);
  }
  const auto report = evaluate(input, a.resamples, a.seed);
  if (!a.report.empty()) write_json_file(a.report, to_json(report));
  std::cout << markdown(report) << "\n" << usage_markdown(report);
  return 0;
}

const Register command{{"eval", "Evaluate a trained model (or one expert's own score) on labelled pairs",
                    [](CLI::App& app) {
                      auto a = std::make_shared<EvalArgs>();
                      app.add_option("--model", a->model, "model directory from `relmoe train`");
                      app.add_option("--single", a->single, "instead of a model: this expert's score column");
                      app.add_option("--features", a->features, "feature store directory")->required();
                      app.add_option("--data", a->data, "labelled pairs (.tsv, .csv, .jsonl)")->required();
                      a->input.add(app);
                      app.add_option("--report", a->report, "write the JSON report here");
                      app.add_option("--scores", a->scores,
                                     "write each pair's score here (id market label score; a student's teacher)");
                      app.add_option("--budget", a->budget,
                                     "hard routing: mean expert seconds per pair the model may spend (0: none; default: the model's)");
                      app.add_option("--resamples", a->resamples, "bootstrap resamples")->capture_default_str();
                      app.add_option("--seed", a->seed, "bootstrap seed")->capture_default_str();
                      add_threads_option(app, a->threads);
                      return [a] { return run(*a); };
                    }}};

}  // namespace
}  // namespace relmoe::cli
