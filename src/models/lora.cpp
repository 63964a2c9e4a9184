#include "models/lora.hpp"

#include "base/error.hpp"
#include "io/checkpoint.hpp"
#include "io/durable_file.hpp"
#include "io/json_file.hpp"
#include "io/safetensors_writer.hpp"
#include "models/family.hpp"

#include <algorithm>
#include <cmath>

namespace relmoe {

namespace {

namespace fs = std::filesystem;

const char* const kKeyPrefix = "base_model.model.";

LoraConfig parse_lora_config(const fs::path& file) {
  const auto j = read_json_file(file);
  const std::string where = file.string();
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!j.contains(name) || j[name].is_null()) fail(where, std::string("field '") + name + "' is missing");
    return j[name];
  };
  if (!field("r").is_number_integer() || field("r").get<std::int64_t>() <= 0)
    fail(where, "field 'r' must be a positive integer");
  if (!field("lora_alpha").is_number() || !std::isfinite(j["lora_alpha"].get<double>()))
    fail(where, "field 'lora_alpha' must be a finite number");
  auto flag = [&](const char* name) {
    if (!j.contains(name) || j[name].is_null()) return false;
    if (!j[name].is_boolean()) fail(where, std::string("field '") + name + "' must be true or false");
    return j[name].get<bool>();
  };
  for (const char* unsupported : {"use_dora", "fan_in_fan_out"})
    if (flag(unsupported)) fail(where, std::string("field '") + unsupported + "' true is not supported");
  if (j.contains("bias") && j["bias"] != "none") fail(where, "field 'bias' must be \"none\"");
  for (const char* pattern : {"rank_pattern", "alpha_pattern"})
    if (j.contains(pattern) && !j[pattern].is_null() && !j[pattern].empty())
      fail(where, std::string("field '") + pattern + "' (per-module ranks) is not supported");
  LoraConfig c;
  c.rank = j["r"].get<std::int64_t>();
  c.alpha = j["lora_alpha"].get<double>();
  c.rslora = flag("use_rslora");
  if (j.contains("target_modules") && j["target_modules"].is_array())
    for (const auto& t : j["target_modules"])
      if (t.is_string()) c.targets.push_back(t.get<std::string>());
  return c;
}

// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" -> module
// "model.layers.0.self_attn.q_proj" and part "lora_A"; "" for other keys.
std::pair<std::string, std::string> split_key(std::string key) {
  const std::string prefix = kKeyPrefix;
  if (key.rfind(prefix, 0) == 0) key = key.substr(prefix.size());
  for (const char* part : {"lora_A", "lora_B"}) {
    for (const std::string& suffix : {std::string(".") + part + ".weight",
                                      std::string(".") + part + ".default.weight"}) {
      if (key.size() > suffix.size() && key.ends_with(suffix))
        return {key.substr(0, key.size() - suffix.size()), part};
    }
  }
  return {"", ""};
}

std::string last_component(const std::string& name) {
  const auto dot = name.rfind('.');
  return dot == std::string::npos ? name : name.substr(dot + 1);
}

std::vector<std::string> projection_patterns(const ModelConfig& config) {
  const auto& n = family_of(config).names;
  std::vector<std::string> out;
  for (const auto* p : {&n.q, &n.k, &n.v, &n.o, &n.gate, &n.up, &n.down})
    if (!p->empty()) out.push_back(*p);
  return out;
}

}  // namespace

double LoraConfig::scale() const {
  return rslora ? alpha / std::sqrt(static_cast<double>(rank)) : alpha / static_cast<double>(rank);
}

std::vector<std::string> lora_target_names(const ModelConfig& config) {
  std::vector<std::string> out;
  for (const auto& p : projection_patterns(config)) out.push_back(last_component(p));
  return out;
}

LoraAdapter init_lora(const LoraConfig& config, const ModelConfig& model, const Weights& base,
                      std::uint64_t seed) {
  if (config.rank <= 0) fail("--lora-rank", "must be positive");
  if (!(config.alpha > 0) || !std::isfinite(config.alpha)) fail("--lora-alpha", "must be a positive number");
  if (config.targets.empty()) fail("--lora-targets", "names no projection");
  const auto names = lora_target_names(model);
  std::string known;
  for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
  for (const auto& t : config.targets)
    if (std::find(names.begin(), names.end(), t) == names.end())
      fail("--lora-targets", "'" + t + "' is not a projection of " + model.model_type + " (it has " + known + ")");
  LoraAdapter adapter{config, {}};
  auto generator = at::detail::createCPUGenerator(seed);
  for (std::int64_t layer = 0; layer < model.num_hidden_layers; ++layer) {
    for (const auto& pattern : projection_patterns(model)) {
      if (std::find(config.targets.begin(), config.targets.end(), last_component(pattern)) == config.targets.end())
        continue;
      const auto module = layer_name(pattern, layer);
      const auto& w = base.at(module + ".weight");
      const double bound = 1.0 / std::sqrt(static_cast<double>(w.size(1)));
      auto a = torch::rand({config.rank, w.size(1)}, generator, torch::kFloat32) * (2 * bound) - bound;
      adapter.modules[module] = {a.to(w.device()), torch::zeros({w.size(0), config.rank}, w.options().dtype(torch::kFloat32))};
    }
  }
  return adapter;
}

LoraAdapter load_lora(const fs::path& adapter_dir, torch::Device device) {
  LoraAdapter adapter{parse_lora_config(adapter_dir / "adapter_config.json"), {}};
  const auto file = adapter_dir / "adapter_model.safetensors";
  if (!fs::exists(file)) fail(file.string(), "missing (only safetensors adapters are supported)");
  const auto checkpoint = Checkpoint::open(file);
  std::map<std::string, std::map<std::string, std::string>> modules;  // module -> part -> key
  for (const auto& key : checkpoint.names()) {
    auto [module, part] = split_key(key);
    if (module.empty()) fail(file.string(), "tensor '" + key + "' is not a LoRA A/B matrix");
    modules[module][part] = key;
  }
  if (modules.empty()) fail(file.string(), "holds no LoRA tensors");
  for (const auto& [module, parts] : modules) {
    if (parts.size() != 2)
      fail(file.string(), "module '" + module + "' lacks " + (parts.count("lora_A") ? "lora_B" : "lora_A"));
    auto a = checkpoint.get(parts.at("lora_A"), torch::kFloat32, device);
    auto b = checkpoint.get(parts.at("lora_B"), torch::kFloat32, device);
    if (a.dim() != 2 || b.dim() != 2 || b.size(1) != a.size(0) || a.size(0) != adapter.config.rank)
      fail(file.string(), "module '" + module + "': lora_B " + c10::str(b.sizes()) + " x lora_A " +
                              c10::str(a.sizes()) + " is not a rank-" + std::to_string(adapter.config.rank) +
                              " product");
    adapter.modules[module] = {a, b};
  }
  return adapter;
}

void save_lora(const fs::path& adapter_dir, const LoraAdapter& adapter, const std::string& base_model) {
  StagingDirectory staging(adapter_dir);
  const auto& c = adapter.config;
  const nlohmann::json config = {{"peft_type", "LORA"},
                                 {"task_type", "CAUSAL_LM"},
                                 {"base_model_name_or_path", base_model},
                                 {"r", c.rank},
                                 {"lora_alpha", c.alpha},
                                 {"use_rslora", c.rslora},
                                 {"lora_dropout", 0.0},
                                 {"target_modules", c.targets},
                                 {"bias", "none"},
                                 {"fan_in_fan_out", false},
                                 {"use_dora", false},
                                 {"init_lora_weights", true},
                                 {"inference_mode", true},
                                 {"modules_to_save", nullptr}};
  write_json_file(staging.path() / "adapter_config.json", config);
  Weights tensors;
  for (const auto& [module, m] : adapter.modules) {
    tensors[kKeyPrefix + module + ".lora_A.weight"] = m.a;
    tensors[kKeyPrefix + module + ".lora_B.weight"] = m.b;
  }
  save_tensors(staging.path() / "adapter_model.safetensors", tensors);
  staging.publish();
}

std::optional<fs::path> find_adapter(const fs::path& expert_dir) {
  const auto relmoe_json = expert_dir / "relmoe.json";
  if (fs::exists(relmoe_json)) {
    const auto j = read_json_file(relmoe_json);
    if (j.contains("adapter") && !j["adapter"].is_null()) {
      if (!j["adapter"].is_string()) fail(relmoe_json.string(), "field 'adapter' must be a string");
      auto dir = expert_dir / j["adapter"].get<std::string>();
      if (!fs::exists(dir / "adapter_config.json"))
        fail(relmoe_json.string(), "field 'adapter': no adapter_config.json in " + dir.string());
      return dir;
    }
  }
  if (fs::exists(expert_dir / "adapter_config.json")) return expert_dir;
  return std::nullopt;
}

void merge_lora(Weights& weights, const LoraAdapter& adapter, const std::string& source) {
  const double scale = adapter.config.scale();
  for (const auto& [module, m] : adapter.modules) {
    auto target = weights.find(module + ".weight");
    if (target == weights.end())
      fail(source, "module '" + module + "' targets '" + module + ".weight', which the model does not have");
    const auto& w = target->second;
    if (m.b.size(0) != w.size(0) || m.a.size(1) != w.size(1))
      fail(source, "module '" + module + "': lora_B " + c10::str(m.b.sizes()) + " x lora_A " +
                       c10::str(m.a.sizes()) + " does not match weight " + c10::str(w.sizes()));
    target->second = torch::addmm(w.to(torch::kFloat32), m.b.to(w.device()), m.a.to(w.device()), 1.0, scale)
                         .to(w.scalar_type());
  }
}

void merge_lora(Weights& weights, const fs::path& adapter_dir) {
  const auto device = weights.empty() ? torch::Device(torch::kCPU) : weights.begin()->second.device();
  merge_lora(weights, load_lora(adapter_dir, device), (adapter_dir / "adapter_model.safetensors").string());
}

}  // namespace relmoe
