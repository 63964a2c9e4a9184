#include "models/weights.hpp"

#include "base/error.hpp"
#include "io/safetensors_writer.hpp"

#include <fstream>

namespace relmoe {

Weights load_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                     torch::ScalarType dtype, torch::Device device) {
  Weights weights;
  for (const auto& spec : tensor_specs(config))
    weights[spec.name] = checkpoint.get(spec.name, dtype, device, spec.shape);
  return weights;
}

torch::Tensor random_tensor(const TensorSpec& spec, const Family& family, torch::ScalarType dtype,
                            torch::Device device, std::uint64_t seed) {
  torch::Tensor t;
  switch (spec.role) {
    case TensorRole::Matrix:
    case TensorRole::Embedding: {
      auto generator = at::detail::createCPUGenerator(seed);
      t = torch::randn(spec.shape, generator, torch::kFloat32) * 0.02;
      break;
    }
    case TensorRole::Bias:
      t = torch::zeros(spec.shape);
      break;
    case TensorRole::Norm:
      t = family.norm_offset ? torch::zeros(spec.shape) : torch::ones(spec.shape);
      break;
  }
  return t.to(device, dtype);
}

Weights random_weights(const ModelConfig& config, torch::ScalarType dtype, torch::Device device,
                       std::uint64_t seed) {
  const Family& family = family_of(config);
  Weights weights;
  for (const auto& spec : tensor_specs(config))
    weights[spec.name] = random_tensor(spec, family, dtype, device, seed++);
  return weights;
}

std::string safetensors_dtype(torch::ScalarType dtype) {
  switch (dtype) {
    case torch::kFloat32: return "F32";
    case torch::kFloat16: return "F16";
    case torch::kBFloat16: return "BF16";
    default: fail("safetensors", std::string("cannot store dtype ") + c10::toString(dtype));
  }
}

namespace {

void write_config(const std::filesystem::path& dir, const ModelConfig& config,
                  torch::ScalarType dtype) {
  auto json = config.to_json();
  json["torch_dtype"] = dtype == torch::kFloat32   ? "float32"
                        : dtype == torch::kFloat16 ? "float16"
                                                   : "bfloat16";
  auto temp = dir / "config.json.tmp";
  std::ofstream(temp) << json.dump(2) << "\n";
  std::filesystem::rename(temp, dir / "config.json");
}

}  // namespace

void save_model(const std::filesystem::path& dir, const ModelConfig& config,
                const std::function<torch::Tensor(const TensorSpec&)>& tensor_for) {
  std::filesystem::create_directories(dir);
  const auto specs = tensor_specs(config);
  // The dtype of the first tensor decides the file's dtype; all tensors are stored in it.
  torch::Tensor first = tensor_for(specs.front());
  const auto dtype = first.scalar_type();
  std::vector<SafetensorsEntry> entries;
  for (const auto& spec : specs) entries.push_back({spec.name, safetensors_dtype(dtype), spec.shape});
  SafetensorsWriter writer(dir / "model.safetensors", entries, {{"format", "pt"}});
  for (std::size_t i = 0; i < specs.size(); ++i) {
    torch::Tensor t = i == 0 ? std::move(first) : tensor_for(specs[i]);
    if (t.sizes() != c10::IntArrayRef(specs[i].shape))
      fail(specs[i].name, "tensor shape does not match the config");
    t = t.detach().to(torch::kCPU, dtype).contiguous();
    writer.write(t.data_ptr(), t.numel() * t.element_size());
  }
  writer.finish();
  write_config(dir, config, dtype);
}

void save_model(const std::filesystem::path& dir, const ModelConfig& config,
                const Weights& weights) {
  save_model(dir, config, [&](const TensorSpec& spec) {
    auto it = weights.find(spec.name);
    if (it == weights.end()) fail("save_model", "missing tensor '" + spec.name + "'");
    return it->second;
  });
}

}  // namespace relmoe
