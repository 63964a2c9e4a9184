#include "io/expert_record.hpp"

#include "base/error.hpp"

#include <cmath>

namespace relmoe {

std::string how_run(const std::string& run_dtype, std::int64_t prompt_tokens) {
  return run_dtype + " with prompts cut at " + std::to_string(prompt_tokens) + " tokens";
}

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
  if (e.prompt_tokens > 0) j["prompt_tokens"] = e.prompt_tokens;
  if (!e.run_dtype.empty()) j["run_dtype"] = e.run_dtype;
  return j;
}

ExpertRecord expert_record_from_json(const nlohmann::json& j, const std::string& where) {
  try {
    ExpertRecord e{j.at("name").get<std::string>(), j.value("dir", std::string()), j.value("width", std::int64_t{0})};
    if (e.width < 0) fail(where, "expert '" + e.name + "' has a negative width");
    e.cost = j.value("cost_s_per_pair", 0.0);
    if (!(e.cost >= 0) || !std::isfinite(e.cost)) fail(where, "expert '" + e.name + "' has a cost_s_per_pair that is not a non-negative number");
    e.prompt_tokens = j.value("prompt_tokens", std::int64_t{0});
    if (e.prompt_tokens < 0) fail(where, "expert '" + e.name + "' has a negative prompt_tokens");
    e.run_dtype = j.value("run_dtype", std::string());
    if (!e.run_dtype.empty() && e.run_dtype != "f32" && e.run_dtype != "bf16" && e.run_dtype != "f16")
      fail(where, "expert '" + e.name + "' has run_dtype '" + e.run_dtype + "' (expected f32, bf16 or f16)");
    return e;
  } catch (const nlohmann::json::exception& ex) {
    fail(where, std::string("missing or mistyped expert field: ") + ex.what());
  }
}

}  // namespace relmoe
