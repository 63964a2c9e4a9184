#include "models/lora.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "io/checkpoint.hpp"

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>

namespace relmoe {

namespace {

// lora_alpha / r (or / sqrt(r) for rsLoRA), after refusing options this merge does not do.
double adapter_scale(const std::filesystem::path& file) {
  const auto j = read_json_file(file);
  const std::string where = file.string();
  auto field = [&](const char* name) -> const nlohmann::json& {
    if (!j.contains(name) || j[name].is_null()) fail(where, std::string("field '") + name + "' is missing");
    return j[name];
  };
  if (!field("r").is_number_integer() || field("r").get<std::int64_t>() <= 0)
    fail(where, "field 'r' must be a positive integer");
  if (!field("lora_alpha").is_number()) fail(where, "field 'lora_alpha' must be a number");
  const auto r = static_cast<double>(j["r"].get<std::int64_t>());
  const double alpha = j["lora_alpha"].get<double>();
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
  return flag("use_rslora") ? alpha / std::sqrt(r) : alpha / r;
}

// "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight" -> module
// "model.layers.0.self_attn.q_proj" and part "lora_A"; "" for other keys.
std::pair<std::string, std::string> split_key(std::string key) {
  const std::string prefix = "base_model.model.";
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

}  // namespace

std::optional<std::filesystem::path> find_adapter(const std::filesystem::path& expert_dir) {
  const auto relmoe_json = expert_dir / "relmoe.json";
  if (std::filesystem::exists(relmoe_json)) {
    const auto j = read_json_file(relmoe_json);
    if (j.contains("adapter") && !j["adapter"].is_null()) {
      if (!j["adapter"].is_string()) fail(relmoe_json.string(), "field 'adapter' must be a string");
      auto dir = expert_dir / j["adapter"].get<std::string>();
      if (!std::filesystem::exists(dir / "adapter_config.json"))
        fail(relmoe_json.string(), "field 'adapter': no adapter_config.json in " + dir.string());
      return dir;
    }
  }
  if (std::filesystem::exists(expert_dir / "adapter_config.json")) return expert_dir;
  return std::nullopt;
}

void merge_lora(Weights& weights, const std::filesystem::path& adapter_dir) {
  const double scale = adapter_scale(adapter_dir / "adapter_config.json");
  const auto file = adapter_dir / "adapter_model.safetensors";
  if (!std::filesystem::exists(file))
    fail(file.string(), "missing (only safetensors adapters are supported)");
  const auto adapter = Checkpoint::open(file);
  std::map<std::string, std::map<std::string, std::string>> modules;  // module -> part -> key
  for (const auto& key : adapter.names()) {
    auto [module, part] = split_key(key);
    if (module.empty()) fail(file.string(), "tensor '" + key + "' is not a LoRA A/B matrix");
    modules[module][part] = key;
  }
  if (modules.empty()) fail(file.string(), "holds no LoRA tensors");
  for (const auto& [module, parts] : modules) {
    if (parts.size() != 2)
      fail(file.string(), "module '" + module + "' lacks " +
                              (parts.count("lora_A") ? "lora_B" : "lora_A"));
    auto target = weights.find(module + ".weight");
    if (target == weights.end())
      fail(file.string(), "tensor '" + parts.at("lora_A") + "' targets '" + module +
                              ".weight', which the model does not have");
    const auto& w = target->second;
    auto a = adapter.get(parts.at("lora_A"), torch::kFloat32, w.device());
    auto b = adapter.get(parts.at("lora_B"), torch::kFloat32, w.device());
    if (a.dim() != 2 || b.dim() != 2 || b.size(1) != a.size(0) || b.size(0) != w.size(0) ||
        a.size(1) != w.size(1))
      fail(file.string(), "module '" + module + "': lora_B " + c10::str(b.sizes()) +
                              " x lora_A " + c10::str(a.sizes()) + " does not match weight " +
                              c10::str(w.sizes()));
    target->second = torch::addmm(w.to(torch::kFloat32), b, a, 1.0, scale).to(w.scalar_type());
  }
}

}  // namespace relmoe
