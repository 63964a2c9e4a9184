#pragma once
// PEFT LoRA adapters merged into the base weights at load time: W += scale * B A, with
// scale = lora_alpha / r, or lora_alpha / sqrt(r) when use_rslora is true.
#include "models/weights.hpp"

#include <filesystem>
#include <optional>

namespace relmoe {

// Where an expert's adapter lives: the directory named by relmoe.json "adapter" (relative
// paths are relative to `expert_dir`), else `expert_dir` itself when it holds
// adapter_config.json; nullopt when there is none.
std::optional<std::filesystem::path> find_adapter(const std::filesystem::path& expert_dir);

// Merges adapter_config.json + adapter_model.safetensors from `adapter_dir` into `weights`.
// Every lora_A/lora_B pair must target a weight in `weights` with matching shapes; merged
// tensors are new (computed in float32, stored in the weight's dtype); the originals, which
// may alias a read-only mapped file, are not written. Errors name the file and tensor/field.
void merge_lora(Weights& weights, const std::filesystem::path& adapter_dir);

}  // namespace relmoe
