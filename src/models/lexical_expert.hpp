#pragma once
// The lexical expert: a character n-gram model of the kind a relevance team already runs,
// fused with the LLM experts like any other (docs/ARCHITECTURE.md). A logistic regression over
// lexical_features' sparse rows gives a relevance logit; the expert's vector for fusion is that
// logit, the dense statistics and the shared-n-gram sketch; its score is the logit.
//
// Features for training pairs are cross-fitted: the training pairs are split into folds by
// (market, query), and each pair's logit comes from the model fitted on the other folds, so the
// fusion classifier never sees a score fitted on the pair itself. Other pairs get the model
// fitted on every training pair.
//
// A fitted expert is a directory: config.json {"model_type": "relmoe-lexical", the
// LexicalConfig fields, "width"} + model.safetensors {weight [2^hash_bits], bias [1], idf
// [2^hash_bits]} (all F32).
#include "io/pair.hpp"
#include "models/expert.hpp"
#include "models/lexical_features.hpp"
#include "models/logistic_regression.hpp"

#include <filesystem>
#include <vector>

namespace relmoe {

class LexicalExpert {
 public:
  static constexpr const char* kModelType = "relmoe-lexical";

  static LexicalExpert fit(const std::vector<const Pair*>& train, const LexicalConfig& config);
  static LexicalExpert load(const std::filesystem::path& dir);
  void save(const std::filesystem::path& dir) const;

  std::int64_t width() const { return 1 + kLexicalStats + config_.sketch; }
  const LexicalConfig& config() const { return config_; }
  const std::vector<float>& idf() const { return idf_; }
  // last_hidden [n, width] and score [n] (the logit), f32 on the CPU.
  ExpertOutput run(const std::vector<const Pair*>& pairs) const;

 private:
  LexicalExpert(LexicalConfig config, std::vector<float> idf, LinearModel model);
  // cross_fit fits the final model from the training rows it builds once for the folds too.
  friend struct CrossFitted cross_fit(const std::vector<Pair>& pairs, const std::vector<Pair>& train,
                                      const LexicalConfig& config);

  LexicalConfig config_;
  std::vector<float> idf_;
  LinearModel model_;
};

// The rows of `pairs` for a feature store: pairs whose id is among `train`'s get out-of-fold
// features, the others the model fitted on all of `train` (returned as `model`).
struct CrossFitted {
  ExpertOutput output;
  LexicalExpert model;
};
CrossFitted cross_fit(const std::vector<Pair>& pairs, const std::vector<Pair>& train, const LexicalConfig& config);

}  // namespace relmoe
