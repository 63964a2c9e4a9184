#include "io/json_file.hpp"

#include "base/error.hpp"
#include "io/durable_file.hpp"

#include <fstream>

namespace relmoe {

nlohmann::json read_json_file(const std::filesystem::path& path, const std::string& hint) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path.string(), "cannot open" + (hint.empty() ? "" : " (" + hint + ")"));
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail(path.string(), std::string("invalid JSON: ") + e.what());
  }
}

nlohmann::json read_json_file_or_null(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  auto json = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  return json.is_discarded() ? nlohmann::json() : json;
}

void write_json_file(const std::filesystem::path& path, const nlohmann::json& json) {
  write_text_file(path, json.dump(2) + "\n");
}

void write_text_file(const std::filesystem::path& path, const std::string& text) { write_atomically(path, text); }

void require_format(const nlohmann::json& j, const std::string& where, const std::string& format, int version,
                    const std::string& hint) {
  const bool ok = j.is_object() && j.contains("format") && j["format"] == format && j.contains("version") &&
                  j["version"].is_number_integer() && j["version"] == version;
  if (!ok)
    fail(where, "is not a " + format + " manifest of version " + std::to_string(version) +
                    (hint.empty() ? "" : " (" + hint + ")"));
}

}  // namespace relmoe
