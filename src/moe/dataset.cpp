#include "moe/dataset.hpp"

#include "base/error.hpp"

#include <numeric>

namespace relmoe {

std::vector<int> store_columns(const FeatureStore& store, const MoeConfig& config) {
  std::vector<int> columns;
  for (std::size_t e = 0; e < config.experts.size(); ++e) {
    const int c = store.expert_index(config.experts[e]);
    if (store.experts()[c].width != config.widths[e])
      fail(store.dir().string(), "expert '" + config.experts[e] + "' has width " +
                                     std::to_string(store.experts()[c].width) + " but the model expects " +
                                     std::to_string(config.widths[e]));
    columns.push_back(c);
  }
  return columns;
}

PairSet make_pair_set(const FeatureStore& store, const std::vector<Pair>& pairs, const MoeConfig& config,
                      const std::string& source, bool need_labels) {
  if (pairs.empty()) fail(source, "holds no pairs");
  const auto columns = store_columns(store, config);
  PairSet set;
  std::size_t missing = 0;
  std::string first_missing;
  std::int64_t max_row = -1;
  for (const auto& p : pairs) {
    const auto row = store.find_row(p.id);
    if (!row) {
      if (missing++ == 0) first_missing = p.id;
      continue;
    }
    if (need_labels && !p.label) fail(source, "pair '" + p.id + "' has no label");
    set.ids.push_back(p.id);
    set.market_names.push_back(p.market);
    set.rows.push_back(*row);
    set.markets.push_back(config.market_index(p.market));
    if (p.label) set.labels.push_back(*p.label);
    set.bags.add(p.query, p.item, config.hashing);
    max_row = std::max(max_row, *row);
  }
  if (missing > 0)
    fail(source, std::to_string(missing) + " of " + std::to_string(pairs.size()) +
                     " pair ids are not in the feature store " + store.dir().string() + " (first: '" +
                     first_missing + "'); the store and the data do not match");
  for (std::size_t e = 0; e < columns.size(); ++e) {
    const auto& column = store.experts()[columns[e]];
    if (max_row >= column.rows_complete)
      fail(store.dir().string(), "expert '" + column.name + "' has only " + std::to_string(column.rows_complete) +
                                     " of " + std::to_string(store.rows()) + " rows complete; " + source +
                                     " needs row " + std::to_string(max_row) + " (finish `relmoe embed` first)");
  }
  if (!set.labels.empty() && set.labels.size() != set.ids.size()) set.labels.clear();
  return set;
}

RouterBatch router_batch(const PairSet& set, const std::vector<std::int64_t>& positions) {
  RouterBatch b;
  std::tie(b.ids, b.offsets) = set.bags.gather(positions);
  b.markets = torch::empty({static_cast<std::int64_t>(positions.size())}, torch::kLong);
  auto* m = b.markets.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < positions.size(); ++i) m[i] = set.markets[positions[i]];
  return b;
}

HiddenFetch store_fetch(const FeatureStore& store, const std::vector<int>& columns, const PairSet& set,
                        const std::vector<std::int64_t>& positions) {
  auto rows = torch::empty({static_cast<std::int64_t>(positions.size())}, torch::kLong);
  auto* r = rows.data_ptr<std::int64_t>();
  for (std::size_t i = 0; i < positions.size(); ++i) r[i] = set.rows[positions[i]];
  return [&store, columns, rows](int e, const torch::Tensor& at) {
    return store.hidden(columns[e], rows.index_select(0, at));
  };
}

Predictions predict(MoeModel& model, const FeatureStore& store, const PairSet& set, std::int64_t batch) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const auto columns = store_columns(store, model->config);
  const auto n_experts = model->config.num_experts();
  Predictions out;
  out.scores.reserve(set.ids.size());
  out.active.reserve(set.ids.size() * n_experts);
  std::vector<std::int64_t> positions;
  for (std::int64_t start = 0; start < set.size(); start += batch) {
    positions.resize(static_cast<std::size_t>(std::min(batch, set.size() - start)));
    std::iota(positions.begin(), positions.end(), start);
    const auto result = model->forward(router_batch(set, positions), store_fetch(store, columns, set, positions), false);
    const auto logits = result.logits.to(torch::kFloat64).contiguous();
    out.scores.insert(out.scores.end(), logits.data_ptr<double>(), logits.data_ptr<double>() + logits.numel());
    const auto active = result.gates.active.to(torch::kUInt8).contiguous();
    out.active.insert(out.active.end(), active.data_ptr<std::uint8_t>(), active.data_ptr<std::uint8_t>() + active.numel());
  }
  model->train(was_training);
  return out;
}

torch::Tensor fused_representations(MoeModel& model, const FeatureStore& store, const PairSet& set,
                                    const std::vector<std::int64_t>& positions) {
  torch::NoGradGuard no_grad;
  const bool was_training = model->is_training();
  model->eval();
  const auto columns = store_columns(store, model->config);
  const auto batch = router_batch(set, positions);
  auto z = model->fuse(model->gates(batch, false), batch.size(), store_fetch(store, columns, set, positions));
  model->train(was_training);
  return z;
}

}  // namespace relmoe
