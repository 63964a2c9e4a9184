#pragma once
// Read access to parsed JSON that remembers the file and the JSON path of every value, so a
// wrong or missing field is reported as "<file>: <path>: <problem>" (e.g.
// "tokenizer.json: model.merges[12]: expected a string or a [left, right] array").
#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace relmoe {

// Parses `text`; syntax errors become relmoe::Error naming `source` and the byte offset.
nlohmann::json parse_json_text(std::string_view text, const std::string& source);

class JsonNode {
 public:
  // `source` must outlive the node and everything derived from it.
  JsonNode(const nlohmann::json& value, const std::string& source, std::string path = "")
      : value_(&value), source_(&source), path_(std::move(path)) {}

  const nlohmann::json& json() const { return *value_; }
  const std::string& path() const { return path_; }
  const std::string& source() const { return *source_; }

  // Required member (error when absent or when this is not an object).
  JsonNode at(std::string_view key) const;
  // Member that may be absent or null.
  std::optional<JsonNode> find(std::string_view key) const;
  JsonNode element(std::size_t index) const;

  std::string string() const;
  bool boolean() const;
  std::int64_t integer() const;
  double number() const;
  // Checks the type and returns the object / array for iteration.
  const nlohmann::json::object_t& object() const;
  const nlohmann::json::array_t& array() const;

  // Optional typed members with defaults.
  std::string string_or(std::string_view key, std::string fallback) const;
  bool boolean_or(std::string_view key, bool fallback) const;

  [[noreturn]] void fail(const std::string& what) const;

 private:
  std::string child_path(std::string_view key) const;

  const nlohmann::json* value_;
  const std::string* source_;
  std::string path_;
};

}  // namespace relmoe
