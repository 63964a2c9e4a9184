#pragma once
// A saved model's scores over labelled pairs of a feature store, as `evaluate` (eval/report)
// takes them: what `relmoe eval --model` reports and what a variant teaches the student.
#include "eval/report.hpp"
#include "io/feature_store.hpp"
#include "io/pair.hpp"

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace relmoe {

// Scores are logits. `source` names the pairs in errors; `budget` replaces the model's routing
// budget (hard routing: mean expert seconds per pair).
EvalInput model_eval_input(const std::filesystem::path& model_dir, const FeatureStore& store,
                           const std::vector<Pair>& pairs, const std::string& source,
                           std::optional<double> budget = std::nullopt);

}  // namespace relmoe
