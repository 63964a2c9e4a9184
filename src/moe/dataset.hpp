#pragma once
// Pairs joined with their feature-store rows and precomputed router features, and batched
// scoring of a model over them.
#include "io/feature_store.hpp"
#include "io/pair.hpp"
#include "moe/model.hpp"

#include <string>
#include <vector>

namespace relmoe {

struct PairSet {
  std::vector<std::string> ids;
  std::vector<std::string> market_names;
  std::vector<std::int64_t> rows;     // feature-store row of each pair
  std::vector<std::int64_t> markets;  // index into the model's market vocabulary
  std::vector<float> labels;          // empty when unlabelled
  FeatureBags bags;                   // router features

  std::int64_t size() const { return static_cast<std::int64_t>(ids.size()); }
};

// Joins `pairs` (read from `source`, named in errors) with `store` for the model `config`.
// Errors: empty data, ids missing from the store, rows an expert has not completed, markets the
// model has not seen, missing labels when `need_labels`.
PairSet make_pair_set(const FeatureStore& store, const std::vector<Pair>& pairs, const MoeConfig& config,
                      const std::string& source, bool need_labels);

// Store column of each model expert; throws when an expert is missing or its width differs.
std::vector<int> store_columns(const FeatureStore& store, const MoeConfig& config);

RouterBatch router_batch(const PairSet& set, const std::vector<std::int64_t>& positions);
// Fetches hidden states of the batch's pairs from the store (f16 -> f32 on the fly).
HiddenFetch store_fetch(const FeatureStore& store, const std::vector<int>& columns, const PairSet& set,
                        const std::vector<std::int64_t>& positions);

struct Predictions {
  std::vector<double> scores;        // relevance logits
  std::vector<std::uint8_t> active;  // [pairs * experts] experts that ran
};

// Inference-mode scores of every pair in `set`.
Predictions predict(MoeModel& model, const FeatureStore& store, const PairSet& set, std::int64_t batch = 1024);

// Inference-mode fused representations z (the classifier's input, MoeModelImpl::fuse) of the
// pairs at `positions` of `set`: [positions, N*d] for concat fusion, [positions, d] for weighted.
torch::Tensor fused_representations(MoeModel& model, const FeatureStore& store, const PairSet& set,
                                    const std::vector<std::int64_t>& positions);

}  // namespace relmoe
