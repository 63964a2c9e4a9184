#include "moe/model_experts.hpp"

#include "base/error.hpp"
#include "io/durable_file.hpp"
#include "moe/dataset.hpp"

#include <nlohmann/json.hpp>

#include <fstream>

namespace relmoe {

namespace fs = std::filesystem;

std::vector<ModelExpert> model_experts(const FeatureStore& store, const MoeConfig& config) {
  const auto columns = store_columns(store, config);
  std::vector<ModelExpert> out;
  for (std::size_t e = 0; e < columns.size(); ++e) {
    const auto& c = store.experts()[columns[e]];
    out.push_back({c.name, c.width, c.dir});
  }
  return out;
}

void write_model_experts(const fs::path& model_dir, const std::vector<ModelExpert>& experts) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : experts) list.push_back({{"name", e.name}, {"width", e.width}, {"dir", e.dir}});
  write_atomically(model_dir / "experts.json", nlohmann::json{{"experts", list}}.dump(2) + "\n");
}

std::vector<ModelExpert> read_model_experts(const fs::path& model_dir) {
  const fs::path path = model_dir / "experts.json";
  if (!fs::exists(path)) return {};
  std::ifstream in(path);
  try {
    const auto j = nlohmann::json::parse(in);
    std::vector<ModelExpert> out;
    for (const auto& e : j.at("experts"))
      out.push_back({e.at("name").get<std::string>(), e.at("width").get<std::int64_t>(), e.value("dir", "")});
    return out;
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), std::string("not a valid experts list: ") + e.what());
  }
}

}  // namespace relmoe
