#include "io/expert_record.hpp"

#include "base/error.hpp"

#include <cmath>

namespace relmoe {

ExpertRecord parse_expert_record(const std::string& spec) {
  const auto eq = spec.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == spec.size()) fail("--expert", "'" + spec + "' is not NAME=DIR");
  ExpertRecord out{spec.substr(0, eq), spec.substr(eq + 1)};
  if (out.name.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-") != std::string::npos)
    fail("--expert", "name '" + out.name + "' may hold only letters, digits, '_', '.', '-'");
  return out;
}

nlohmann::json to_json(const ExpertRecord& e) {
  nlohmann::json j = {{"name", e.name}};
  if (e.width > 0) j["width"] = e.width;
  if (!e.dir.empty()) j["dir"] = e.dir.string();
  if (e.cost > 0) j["cost_s_per_pair"] = e.cost;
  return j;
}

ExpertRecord expert_record_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    ExpertRecord e{j.at("name").get<std::string>(), j.value("dir", std::string()), j.value("width", std::int64_t{0})};
    if (e.width < 0) fail(where, "expert '" + e.name + "' has a negative width");
    e.cost = j.value("cost_s_per_pair", 0.0);
    if (!(e.cost >= 0) || !std::isfinite(e.cost)) fail(where, "expert '" + e.name + "' has a cost_s_per_pair that is not a non-negative number");
    return e;
  } catch (const nlohmann::json::exception& ex) {
    fail(where, std::string("missing or mistyped expert field: ") + ex.what());
  }
}

}  // namespace relmoe
