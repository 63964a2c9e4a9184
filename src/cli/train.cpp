// relmoe train: fit router, projections and classifier on a feature store.
#include "cli/command.hpp"
#include "io/json_file.hpp"
#include "cli/pair_input.hpp"
#include "cli/train_options.hpp"

#include "io/feature_store.hpp"
#include "moe/model_experts.hpp"
#include "moe/model_io.hpp"
#include "runtime/compute.hpp"

#include <iostream>

namespace relmoe::cli {
namespace {

struct TrainArgs {
  std::string features, data, dev, out;
  PairInput input;
  ModelFlags flags;
};

int run(const TrainArgs& a) {
  set_threads(a.flags.threads);
  const auto store = FeatureStore::open(a.features);
  const auto train = a.input.read(a.data);
  const auto dev = a.input.read(a.dev);
  auto result = train_model(a.flags.resolve(), store, train, dev, a.flags.train);
  save_model(result.model, a.out);
  write_model_experts(a.out, model_experts(store, result.model->config));
  nlohmann::json log = {{"dev_auc", result.dev_auc}, {"best_epoch", result.best_epoch}, {"epochs", nlohmann::json::array()}};
  for (const auto& e : result.history) log["epochs"].push_back({{"epoch", e.epoch}, {"loss", e.loss}, {"dev_auc", e.dev_auc}});
  write_json_file((std::filesystem::path(a.out) / "train_log.json").string(), log);
  std::cout << "model saved to " << a.out << " (dev AUC " << result.dev_auc << ", epoch " << result.best_epoch << ")\n";
  return 0;
}

const Register command{{"train", "Train the MoE (router, projections, classifier) on an expert feature store",
                    [](CLI::App& app) {
                      auto a = std::make_shared<TrainArgs>();
                      app.add_option("--features", a->features, "feature store directory")->required();
                      app.add_option("--data", a->data, "training pairs (labelled; .tsv, .csv, .jsonl)")->required();
                      app.add_option("--dev", a->dev, "dev pairs for early stopping")->required();
                      a->input.add(app);
                      app.add_option("--out", a->out, "model directory to write")->required();
                      a->flags.add(app, true);
                      return [a] { return run(*a); };
                    }}};

}  // namespace
}  // namespace relmoe::cli
