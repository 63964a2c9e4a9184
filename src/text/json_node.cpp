#include "text/json_node.hpp"

#include "base/error.hpp"

namespace relmoe {

nlohmann::json parse_json_text(std::string_view text, const std::string& source) {
  try {
    return nlohmann::json::parse(text.begin(), text.end());
  } catch (const nlohmann::json::exception& e) {
    // nlohmann's message reads "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string what = e.what();
    if (auto close = what.find("] "); what.rfind("[json.exception", 0) == 0 && close != what.npos)
      what = what.substr(close + 2);
    relmoe::fail(source, "invalid JSON: " + one_line(what));
  }
}

std::string JsonNode::child_path(std::string_view key) const {
  return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
}

void JsonNode::fail(const std::string& what) const {
  relmoe::fail(*source_, (path_.empty() ? std::string("top level") : path_) + ": " + what);
}

JsonNode JsonNode::at(std::string_view key) const {
  if (!value_->is_object()) fail("expected an object");
  auto it = value_->find(key);
  if (it == value_->end()) fail("missing field '" + std::string(key) + "'");
  return JsonNode(*it, *source_, child_path(key));
}

std::optional<JsonNode> JsonNode::find(std::string_view key) const {
  if (!value_->is_object()) fail("expected an object");
  auto it = value_->find(key);
  if (it == value_->end() || it->is_null()) return std::nullopt;
  return JsonNode(*it, *source_, child_path(key));
}

JsonNode JsonNode::element(std::size_t index) const {
  const auto& items = array();
  if (index >= items.size()) fail("expected at least " + std::to_string(index + 1) + " elements");
  return JsonNode(items[index], *source_, path_ + "[" + std::to_string(index) + "]");
}

std::string JsonNode::string() const {
  if (!value_->is_string()) fail("expected a string");
  return value_->get<std::string>();
}

bool JsonNode::boolean() const {
  if (!value_->is_boolean()) fail("expected true or false");
  return value_->get<bool>();
}

std::int64_t JsonNode::integer() const {
  if (!value_->is_number_integer()) fail("expected an integer");
  return value_->get<std::int64_t>();
}

double JsonNode::number() const {
  if (!value_->is_number()) fail("expected a number");
  return value_->get<double>();
}

const nlohmann::json::object_t& JsonNode::object() const {
  if (!value_->is_object()) fail("expected an object");
  return value_->get_ref<const nlohmann::json::object_t&>();
}

const nlohmann::json::array_t& JsonNode::array() const {
  if (!value_->is_array()) fail("expected an array");
  return value_->get_ref<const nlohmann::json::array_t&>();
}

std::string JsonNode::string_or(std::string_view key, std::string fallback) const {
  auto member = find(key);
  return member ? member->string() : std::move(fallback);
}

bool JsonNode::boolean_or(std::string_view key, bool fallback) const {
  auto member = find(key);
  return member ? member->boolean() : fallback;
}

}  // namespace relmoe
