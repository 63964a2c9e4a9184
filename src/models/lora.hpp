#pragma once
// PEFT LoRA adapters: W' = W + scale * B A, with scale = lora_alpha / r, or lora_alpha / sqrt(r)
// when use_rslora is true. Read from and written as PEFT writes them (adapter_config.json +
// adapter_model.safetensors, keys "base_model.model.<module>.lora_{A,B}.weight"), merged into
// the base weights at load time, or kept apart and applied in the forward (training them:
// Transformer::attach_lora).
#include "models/model_config.hpp"
#include "models/weights.hpp"

#include <nlohmann/json.hpp>
#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace relmoe {

struct LoraConfig {
  std::int64_t rank = 16;
  double alpha = 32;
  bool rslora = false;
  // PEFT's target_modules: the last component of a projection's name ("q_proj", "down_proj").
  std::vector<std::string> targets;

  double scale() const;
};

// One adapted projection: A [rank, in], B [out, rank].
struct LoraModule {
  torch::Tensor a, b;
};

struct LoraAdapter {
  LoraConfig config;
  std::map<std::string, LoraModule> modules;  // "model.layers.0.self_attn.q_proj" -> A, B
};

// The projection names (q_proj ... down_proj) of `config`'s family that a LoRA may target.
std::vector<std::string> lora_target_names(const ModelConfig& config);

// A fresh adapter on every projection of `base` whose name ends in one of config.targets, as
// PEFT initialises one: A ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a = sqrt(5)),
// B = 0, so the adapted model starts equal to the base. float32, on the weights' device; a
// target matching no projection is an error naming it and the names there are.
LoraAdapter init_lora(const LoraConfig& config, const ModelConfig& model, const Weights& base,
                      std::uint64_t seed);

// Reads `adapter_dir` (adapter_config.json + adapter_model.safetensors) as float32 on `device`.
// Options this runtime does not apply (DoRA, fan_in_fan_out, biases, per-module ranks) are
// refused; errors name the file and the field or tensor.
LoraAdapter load_lora(const std::filesystem::path& adapter_dir, torch::Device device = torch::kCPU);

// Writes `adapter` into `adapter_dir` as PEFT does (task CAUSAL_LM, inference mode), naming
// `base_model` as base_model_name_or_path. Staged: the directory appears whole or not at all.
void save_lora(const std::filesystem::path& adapter_dir, const LoraAdapter& adapter,
               const std::string& base_model);

// Where an expert's adapter lives: the directory named by relmoe.json "adapter" (relative
// paths are relative to `expert_dir`), else `expert_dir` itself when it holds
// adapter_config.json; nullopt when there is none.
std::optional<std::filesystem::path> find_adapter(const std::filesystem::path& expert_dir);

// Merges `adapter` into `weights`. Every module must target a weight in `weights` with matching
// shapes; merged tensors are new (computed in float32, stored in the weight's dtype); the
// originals, which may alias a read-only mapped file, are not written. `source` names the
// adapter in errors.
void merge_lora(Weights& weights, const LoraAdapter& adapter, const std::string& source);
void merge_lora(Weights& weights, const std::filesystem::path& adapter_dir);

}  // namespace relmoe
