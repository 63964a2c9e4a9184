#pragma once
// experts.json in a model directory: where the checkpoint of each expert the model fuses
// lives, so `relmoe score --model DIR` can run the experts itself. `relmoe train` copies it
// from the feature store's manifest (which `relmoe embed` fills with each expert's directory):
//   {"experts": [{"name": "qwen", "width": 896, "dir": "/abs/path/to/expert"}, ...]}
// "dir" is absent when the store did not record one (stores from before it did).
#include "io/feature_store.hpp"
#include "io/expert_record.hpp"
#include "moe/config.hpp"

#include <filesystem>
#include <vector>

namespace relmoe {

// The model's experts in slot order with the directories `store` recorded for them.
std::vector<ExpertRecord> model_experts(const FeatureStore& store, const MoeConfig& config);

// A feature expert (not an LLM: the built-in lexical expert, found where its column says or
// beside the store). Its vector starts with its own relevance logit.
bool is_feature_expert(const FeatureStore& store, const std::string& expert);

void write_model_experts(const std::filesystem::path& model_dir, const std::vector<ExpertRecord>& experts);
// Empty when the model directory has no experts.json; errors name the file and field.
std::vector<ExpertRecord> read_model_experts(const std::filesystem::path& model_dir);

}  // namespace relmoe
