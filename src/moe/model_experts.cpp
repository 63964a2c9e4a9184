#include "moe/model_experts.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "models/open_expert.hpp"
#include "moe/dataset.hpp"

namespace relmoe {

bool is_feature_expert(const FeatureStore& store, const std::string& expert) {
  const auto& column = store.experts()[store.expert_index(expert)];
  return expert_kind(column.dir) == ExpertKind::Lexical ||
         expert_kind(store.dir() / (column.name + ".lexical")) == ExpertKind::Lexical;
}

namespace fs = std::filesystem;

std::vector<ExpertRecord> model_experts(const FeatureStore& store, const MoeConfig& config) {
  std::vector<ExpertRecord> out;
  for (const int column : store_columns(store, config)) out.push_back(store.experts()[column]);
  return out;
}

void write_model_experts(const fs::path& model_dir, const std::vector<ExpertRecord>& experts) {
  nlohmann::json list = nlohmann::json::array();
  for (const auto& e : experts) list.push_back(to_json(e));
  write_json_file(model_dir / "experts.json", {{"experts", list}});
}

std::vector<ExpertRecord> read_model_experts(const fs::path& model_dir) {
  const fs::path path = model_dir / "experts.json";
  if (!fs::exists(path)) return {};
  const auto j = read_json_file(path);
  if (!j.contains("experts") || !j["experts"].is_array()) fail(path.string(), "has no \"experts\" list");
  std::vector<ExpertRecord> out;
  for (const auto& e : j["experts"]) out.push_back(expert_record_from_json(e, path.string()));
  return out;
}

}  // namespace relmoe
