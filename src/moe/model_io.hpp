#pragma once
// A trained MoE model directory: config.json (MoeConfig) + model.safetensors (every parameter
// and buffer as F32, named as the module names them), written and read through io/ (the
// safetensors writer and the checkpoint reader). Loading is bit-exact.
#include "moe/model.hpp"

#include <filesystem>

namespace relmoe {

void save_model(MoeModel& model, const std::filesystem::path& dir);
MoeModel load_model(const std::filesystem::path& dir);

}  // namespace relmoe
