#pragma once
// A trained MoE model directory: config.json (MoeConfig) + model.safetensors (every parameter
// and buffer as F32, named as the module names them). Loading is bit-exact.
#include "moe/model.hpp"

#include <filesystem>
#include <map>
#include <string>

namespace relmoe {

void save_model(MoeModel& model, const std::filesystem::path& dir);
MoeModel load_model(const std::filesystem::path& dir);

// Minimal F32 safetensors: header (u64 length + JSON with dtype, shape, data_offsets) + data.
void write_safetensors_f32(const std::filesystem::path& path, const std::map<std::string, torch::Tensor>& tensors);
std::map<std::string, torch::Tensor> read_safetensors_f32(const std::filesystem::path& path);

}  // namespace relmoe
