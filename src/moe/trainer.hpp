#pragma once
// Trains an MoE model on frozen expert features: BCE + lambda * load balancing (hard routing)
// + lambda_cost * expert cost (hard routing) + entropy (soft routing), Adam (moe/adam), early stopping on dev AUC, deterministic given the seed.
// Pseudo-label routing trains per-expert probes, labels each training pair with the expert of
// lowest probe loss, fits the router to those labels, freezes it and then trains the fusion.
// Rule routing without a given table picks the best single expert per market on dev.
// With a margin expert and TrainOptions::market_residual, each market's correction factor is
// then chosen on dev (MoeConfig::market_residual).
#include "io/feature_store.hpp"
#include "io/pair.hpp"
#include "moe/model.hpp"

#include <string>
#include <vector>

namespace relmoe {

struct TrainOptions {
  std::int64_t batch = 128;
  double lr = 1e-4;
  double lambda = 0.01;    // load-balancing weight (hard routing)
  double lambda_cost = 0;  // expert-cost weight (hard routing, moe/gating.hpp cost_loss)
  double weight_decay = 0; // decoupled (AdamW) weight decay
  // Weigh each training pair by 1 / (its market's share of pairs), so every market counts alike
  // in the loss (large markets otherwise decide what the fusion learns).
  bool balance_markets = false;
  // With a margin expert (MoeConfig::margin): after training, choose per market the factor on
  // the classifier's correction, 0, 1/2 or 1, by the market's dev AUC (ties: the smaller).
  bool market_residual = false;
  double entropy = 0.01;   // entropy-minimisation weight (soft routing)
  int epochs = 10;
  int patience = 2;        // epochs without dev AUC improvement before stopping
  std::uint64_t seed = 0;
  double router_lr = 1e-3;  // pseudo-label router classifier
  int router_epochs = 3;
  std::int64_t stat_rows = 20000;  // training rows sampled for the standardisation statistics
  bool progress = true;
  std::string label = "train";
};

struct EpochLog {
  int epoch = 0;
  double loss = 0;
  double dev_auc = 0;
};

struct TrainResult {
  MoeModel model{nullptr};
  double dev_auc = 0;
  int best_epoch = 0;
  std::vector<EpochLog> history;
};

// `config` gives routing, fusion, classifier and sizes; its experts (all store experts when
// empty), widths and market vocabulary are filled in from the store and training data.
TrainResult train_model(MoeConfig config, const FeatureStore& store, const std::vector<Pair>& train,
                        const std::vector<Pair>& dev, const TrainOptions& options);

// Dev scores of each single expert (its answer-token score when the store has one, else a
// logistic probe on its hidden state) -> the best expert per market by dev AUC.
std::map<std::string, std::string> best_expert_per_market(const MoeConfig& config, const FeatureStore& store,
                                                          const std::vector<Pair>& train,
                                                          const std::vector<Pair>& dev, const TrainOptions& options);

// --balance-markets: a weight per market index, total / (markets present * the market's pairs),
// so every market's pairs weigh the same in all and the weights average 1 over `markets`.
std::vector<float> balanced_market_weights(const std::vector<std::int64_t>& markets);

// The probe configuration for one expert: no routing, linear classifier.
MoeConfig probe_config(const MoeConfig& base, const std::string& expert);

}  // namespace relmoe
