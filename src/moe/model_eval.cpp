#include "moe/model_eval.hpp"

#include "moe/dataset.hpp"
#include "moe/model_io.hpp"

namespace relmoe {

EvalInput model_eval_input(const std::filesystem::path& model_dir, const FeatureStore& store,
                           const std::vector<Pair>& pairs, const std::string& source, std::optional<double> budget) {
  auto model = load_model(model_dir);
  if (budget) model->set_budget(*budget);
  const auto set = make_pair_set(store, pairs, model->config, source, true);
  auto pred = predict(model, store, set);
  return {std::move(pred.scores), set.labels, set.market_names, model->config.experts, std::move(pred.active),
          model->config.costs};
}

}  // namespace relmoe
