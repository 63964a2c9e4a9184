#pragma once
// A model's named tensors (Hugging Face checkpoint names): loading from a checkpoint,
// random initialisation (training, benchmarks) and saving as config.json + model.safetensors.
#include "io/checkpoint.hpp"
#include "models/family.hpp"
#include "models/model_config.hpp"

#include <torch/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <string>

namespace relmoe {

using Weights = std::map<std::string, torch::Tensor>;

// Every tensor of tensor_specs(config) in `dtype` on `device`. For f32 on CPU the tensors
// alias the memory-mapped checkpoint. The config is checked against the checkpoint before
// anything is allocated: a layer count the file cannot hold, a missing tensor or a wrong
// shape names file and tensor; stored tensors the config does not use are an error listing
// them (a config that does not describe the file), unless `allow_unused`.
Weights load_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                     torch::ScalarType dtype, torch::Device device, bool allow_unused = false);

// The checks behind load_weights, for any model: a layer count the checkpoint cannot hold
// (before specs are built), then every spec present with its shape and no stored tensor left
// over but those `ignorable` accepts (unless `allow_unused`); `model` names the model in messages.
void check_layer_count(const Checkpoint& checkpoint, std::int64_t layers);
Weights load_checked(const Checkpoint& checkpoint, const std::vector<TensorSpec>& specs, const std::string& model,
                     const std::function<bool(const std::string&)>& ignorable, torch::ScalarType dtype,
                     torch::Device device, bool allow_unused);

// One randomly initialised tensor: matrices and embeddings ~ N(0, 0.02) as Hugging Face
// initialises them, biases 0, norm scales 1 (0 for offset norms, whose scale is 1 + w). On the
// CPU a tensor depends on `seed` alone; on an accelerator it is drawn there by the device's
// generator, which random_weights seeds.
torch::Tensor random_tensor(const TensorSpec& spec, const Family& family, torch::ScalarType dtype,
                            torch::Device device, std::uint64_t seed);
Weights random_weights(const ModelConfig& config, torch::ScalarType dtype, torch::Device device,
                       std::uint64_t seed);

// Writes `dir`/config.json and `dir`/model.safetensors, asking `tensor_for` for each tensor
// of tensor_specs(config) in turn, so tensors can be produced and dropped one at a time.
void save_model(const std::filesystem::path& dir, const ModelConfig& config,
                const std::function<torch::Tensor(const TensorSpec&)>& tensor_for);
void save_model(const std::filesystem::path& dir, const ModelConfig& config,
                const Weights& weights);

// Writes every tensor of `tensors` as F32 under its name (a trained model's own state).
void save_tensors(const std::filesystem::path& file, const Weights& tensors);

// "F32", "F16" or "BF16" for a floating scalar type.
std::string safetensors_dtype(torch::ScalarType dtype);

}  // namespace relmoe
