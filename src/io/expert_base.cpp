#include "io/expert_base.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"

namespace relmoe {

namespace fs = std::filesystem;

fs::path expert_checkpoint(const fs::path& expert) {
  const auto manifest = expert / "relmoe.json";
  if (!fs::is_directory(expert) || !fs::exists(manifest)) return expert;
  const auto j = read_json_file(manifest);
  if (!j.contains("base") || j["base"].is_null()) return expert;
  if (!j["base"].is_string() || j["base"].get<std::string>().empty())
    fail(manifest.string(), "field 'base' must be a path (a checkpoint directory or a GGUF file)");
  auto base = expert / j["base"].get<std::string>();
  if (!fs::exists(base)) fail(manifest.string(), "field 'base': " + base.string() + " does not exist");
  return base;
}

bool is_trained_expert(const fs::path& path) {
  if (!fs::is_directory(path)) return false;
  if (fs::exists(path / "adapter_config.json")) return true;
  const auto j = read_json_file_or_null(path / "relmoe.json");
  return j.is_object() && (j.contains("trained_by") || j.contains("adapter"));
}

}  // namespace relmoe
