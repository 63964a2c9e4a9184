#pragma once
// The tensors a decoder checkpoint must hold: its family's name table (models/family.hpp)
// expanded over the layers of one config, each with its shape.
#include "models/model_config.hpp"

#include <vector>

namespace relmoe {

// Every tensor a checkpoint of `config` must provide, with its shape.
std::vector<TensorSpec> tensor_specs(const ModelConfig& config);

}  // namespace relmoe
