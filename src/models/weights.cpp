#include "models/weights.hpp"

#include "base/error.hpp"
#include "models/decoder_tensors.hpp"
#include "io/json_file.hpp"
#include "io/safetensors_writer.hpp"

#include <torch/utils.h>
#include <algorithm>
#include <fstream>
#include <set>

namespace relmoe {

namespace {

std::string first_names(const std::vector<std::string>& names, std::size_t shown) {
  std::string out;
  for (std::size_t i = 0; i < std::min(shown, names.size()); ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > shown) out += ", ... (" + std::to_string(names.size() - shown) + " more)";
  return out;
}

}  // namespace

void check_layer_count(const Checkpoint& checkpoint, std::int64_t layers) {
  // Every layer has tensors of its own, so a file of N tensors holds fewer than N layers;
  // checked before specs are built, whose number follows the claimed layer count.
  const auto stored = static_cast<std::int64_t>(checkpoint.stored_names().size());
  if (layers > stored)
    fail(checkpoint.source() + ": config.json", "field 'num_hidden_layers' is " + std::to_string(layers) +
                                                    " but the checkpoint holds only " + std::to_string(stored) + " tensors");
}

Weights load_checked(const Checkpoint& checkpoint, const std::vector<TensorSpec>& specs, const std::string& model,
                     const std::function<bool(const std::string&)>& ignorable, torch::ScalarType dtype,
                     torch::Device device, bool allow_unused) {
  std::set<std::string> used;
  for (const auto& spec : specs) {
    const auto stored = checkpoint.stored_name(spec.name);
    if (stored.empty())
      fail(checkpoint.source() + ": tensor '" + spec.name + "'",
           "missing from the checkpoint (does config.json describe this model? " + model + ")");
    used.insert(stored);
  }
  std::vector<std::string> unused;
  for (const auto& name : checkpoint.stored_names())
    if (!used.count(name) && !ignorable(name)) unused.push_back(name);
  if (!allow_unused && !unused.empty())
    fail(checkpoint.source(), std::to_string(unused.size()) + " stored tensors are not used by the config.json model (" +
                                  model + "): " + first_names(unused, 4) +
                                  "; fix config.json, or pass --allow-unused-tensors");
  for (const auto& spec : specs)  // all shapes before the first conversion allocates
    if (checkpoint.shape(spec.name) != spec.shape)
      fail(checkpoint.file_of(spec.name).string() + ": tensor '" + spec.name + "'",
           "shape " + c10::str(c10::IntArrayRef(checkpoint.shape(spec.name))) + " does not match the config's " +
               c10::str(c10::IntArrayRef(spec.shape)));
  Weights weights;
  for (const auto& spec : specs) weights[spec.name] = checkpoint.get(spec.name, dtype, device, spec.shape);
  return weights;
}

Weights load_weights(const Checkpoint& checkpoint, const ModelConfig& config,
                     torch::ScalarType dtype, torch::Device device, bool allow_unused) {
  check_layer_count(checkpoint, config.num_hidden_layers);
  // Rotary inverse-frequency buffers (older Llama exports) and an lm_head saved beside tied
  // embeddings are derived data Hugging Face ignores too.
  const std::string lm_head = family_of(config).names.lm_head + ".weight";
  const auto derived = [&](const std::string& name) {
    return name.ends_with(".rotary_emb.inv_freq") || (config.tie_word_embeddings && name == lm_head);
  };
  return load_checked(checkpoint, tensor_specs(config),
                      config.model_type + ", " + std::to_string(config.num_hidden_layers) + " layers", derived, dtype,
                      device, allow_unused);
}

torch::Tensor random_tensor(const TensorSpec& spec, const Family& family, torch::ScalarType dtype,
                            torch::Device device, std::uint64_t seed) {
  torch::Tensor t;
  switch (spec.role) {
    case TensorRole::Matrix:
    case TensorRole::Embedding: {
      if (device.is_cpu()) {  // a generator of its own: the same tensor on every machine
        auto generator = at::detail::createCPUGenerator(seed);
        t = torch::randn(spec.shape, generator, torch::kFloat32) * 0.02;
      } else {  // drawn where it lives: billions of values take minutes on the CPU
        t = torch::randn(spec.shape, torch::TensorOptions().device(device)) * 0.02;
      }
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
  if (!device.is_cpu()) torch::manual_seed(seed);  // the device's generators draw its tensors
  Weights weights;
  for (const auto& spec : tensor_specs(config))
    weights[spec.name] = random_tensor(spec, family, dtype, device, seed++);
  return weights;
}

void save_tensors(const std::filesystem::path& file, const Weights& tensors) {
  std::vector<SafetensorsEntry> entries;
  for (const auto& [name, t] : tensors) entries.push_back({name, "F32", t.sizes().vec()});
  SafetensorsWriter writer(file, entries);
  for (const auto& [name, t] : tensors) {
    const auto c = t.detach().to(torch::kCPU, torch::kFloat32).contiguous();
    writer.write(c.data_ptr(), static_cast<std::size_t>(c.numel()) * sizeof(float));
  }
  writer.finish();
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
  write_json_file(dir / "config.json", json);
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
