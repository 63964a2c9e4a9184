#pragma once
// The flow's last model stage, the paper's Table 3 on the run's data: three ColBERT students
// trained from scratch on the train pairs with the same recipe, taught by the MoE
// (moe:hard:concat), by the best single LLM expert (its probe) and by the labels directly; each
// evaluated on test (AUC, bad-ratio@K, paired differences from the MoE-taught student). Teacher
// scores come from the feature store, so no expert runs again. Resumable: a finished student is
// kept, an interrupted one resumes. Layout: <run>/students/{tokenizer, <name>/, students.json,
// students.md}.
#include "flow/run_layout.hpp"
#include "io/feature_store.hpp"
#include "io/pair.hpp"

#include <nlohmann/json.hpp>

#include <vector>

namespace relmoe {

struct StudentStageOptions {
  long steps = 300;
  int tokenizer_vocab = 2000;
  std::vector<int> ks{1, 3, 5, 10};
};

// `comparisons` is the ablation's headline comparisons (for the best single LLM expert). Returns
// eval/student_comparison's JSON.
nlohmann::json run_student_stage(const RunLayout& layout, const FeatureStore& store, const std::vector<Pair>& train,
                                 const std::vector<Pair>& test, const nlohmann::json& comparisons,
                                 const StudentStageOptions& options);

}  // namespace relmoe
