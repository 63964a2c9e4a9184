#pragma once
// What relmoe keeps about an expert wherever it is listed: its name (a column of the feature
// store, a slot of the MoE), the checkpoint directory it runs from and its hidden width. The
// feature store manifest, a model's experts.json, the batch scorer and the experiment flow
// all hold this one record; its JSON form is {"name", "width", "dir", "cost_s_per_pair",
// "prompt_tokens", "run_dtype"} (each left out when unknown or not measured).
#include <nlohmann/json.hpp>

#include <cstdint>
#include <filesystem>
#include <string>

namespace relmoe {

struct ExpertRecord {
  std::string name;
  std::filesystem::path dir;  // absolute once recorded; empty when unknown
  std::int64_t width = 0;     // hidden size; 0 until the checkpoint has been read
  // Seconds of one thread-pool's wall time per pair, measured while the feature store was
  // filled (0: not measured). Cost-aware routing weighs experts by it.
  double cost = 0;
  // How `relmoe embed` ran the expert, so that `relmoe score` computes the features the MoE was
  // trained on: the prompt-token limit prompts were cut to (0: unknown, a store from before it
  // was recorded) and the run dtype ("f32", "bf16", "f16"; empty: unknown).
  std::int64_t prompt_tokens = 0;
  std::string run_dtype = "";
};

// How an expert was run, in words ("bf16 with prompts cut at 512 tokens"): what a feature
// store column and a hidden-state cache entry each hold only for that run.
std::string how_run(const std::string& run_dtype, std::int64_t prompt_tokens);

// Parses "NAME=DIR" (the --expert flag); the name must be usable as a file name.
ExpertRecord parse_expert_record(const std::string& spec);

nlohmann::json to_json(const ExpertRecord& expert);
// Errors name `where` and the field.
ExpertRecord expert_record_from_json(const nlohmann::json& json, const std::string& where);

}  // namespace relmoe
