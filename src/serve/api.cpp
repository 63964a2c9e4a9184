#include "serve/api.hpp"

#include <nlohmann/json.hpp>

#include <map>

namespace relmoe {

namespace {

nlohmann::json parse_object(const std::string& body) {
  try {
    auto json = nlohmann::json::parse(body);
    if (!json.is_object()) throw ApiError(400, "the body must be a JSON object");
    return json;
  } catch (const nlohmann::json::exception& e) {  // a syntax error, bad UTF-8, a number like 1e999999
    throw ApiError(400, std::string("malformed JSON: ") + e.what());
  }
}

std::string text_field(const nlohmann::json& j, const char* name, const std::string& where) {
  if (!j.contains(name) || !j[name].is_string() || j[name].get_ref<const std::string&>().empty())
    throw ApiError(400, where + "'" + name + "' must be a non-empty string");
  return j[name].get<std::string>();
}

void require_at_most(std::size_t size, std::size_t limit, const char* name) {
  if (size > limit)
    throw ApiError(413, std::string("'") + name + "' has " + std::to_string(size) + " entries; at most " +
                            std::to_string(limit) + " are allowed");
}

std::vector<std::string> string_list(const nlohmann::json& j, const char* name, std::size_t limit) {
  const auto& list = j[name];
  if (!list.is_array() || list.empty()) throw ApiError(400, std::string("'") + name + "' must be a non-empty array");
  require_at_most(list.size(), limit, name);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < list.size(); ++i) {
    if (!list[i].is_string() || list[i].get_ref<const std::string&>().empty())
      throw ApiError(400, std::string("'") + name + "'[" + std::to_string(i) + "] must be a non-empty string");
    out.push_back(list[i].get<std::string>());
  }
  return out;
}

}  // namespace

RerankRequest RerankRequest::parse(const std::string& body, std::size_t max_candidates) {
  const auto json = parse_object(body);
  RerankRequest r;
  r.query = text_field(json, "query", "");
  const bool has_texts = json.contains("texts"), has_ids = json.contains("ids");
  if (has_texts == has_ids) throw ApiError(400, "give exactly one of 'texts' and 'ids'");
  if (json.contains("raw_scores")) {
    if (!json["raw_scores"].is_boolean()) throw ApiError(400, "'raw_scores' must be true or false");
    r.raw_scores = json["raw_scores"].get<bool>();
  }
  (has_texts ? r.texts : r.ids) = string_list(json, has_texts ? "texts" : "ids", max_candidates);
  return r;
}

ScoreRequest ScoreRequest::parse(const std::string& body, std::size_t max_pairs) {
  const auto json = parse_object(body);
  if (!json.contains("pairs") || !json["pairs"].is_array() || json["pairs"].empty())
    throw ApiError(400, "'pairs' must be a non-empty array of {\"query\", \"item\"}");
  const auto& pairs = json["pairs"];
  require_at_most(pairs.size(), max_pairs, "pairs");
  ScoreRequest r;
  for (std::size_t i = 0; i < pairs.size(); ++i) {
    if (!pairs[i].is_object()) throw ApiError(400, "'pairs'[" + std::to_string(i) + "] must be an object");
    const auto where = "'pairs'[" + std::to_string(i) + "].";
    r.pairs.push_back({text_field(pairs[i], "query", where), text_field(pairs[i], "item", where)});
  }
  return r;
}

std::string rerank_answer(const std::vector<RankedCandidate>& ranking) {
  auto out = nlohmann::json::array();
  for (const auto& c : ranking) out.push_back({{"index", c.index}, {"score", c.score}});
  return out.dump();
}

std::string score_answer(const std::vector<double>& scores) { return nlohmann::json{{"scores", scores}}.dump(); }

std::string health_answer(std::size_t items) { return nlohmann::json{{"status", "ok"}, {"items", items}}.dump(); }

std::string error_answer(int status, const std::string& message) {
  static const std::map<int, const char*> types{{400, "Validation"}, {404, "NotFound"},   {405, "NotFound"},
                                                {413, "Validation"}, {429, "Overloaded"}, {431, "Validation"},
                                                {500, "Backend"},    {503, "Unhealthy"}};
  const auto type = types.count(status) ? types.at(status) : "Error";
  // A message can quote the request's own bytes (a JSON parse error does): invalid UTF-8 in it
  // becomes U+FFFD instead of an exception thrown out of the error path.
  return nlohmann::json{{"error", message}, {"error_type", type}}.dump(-1, ' ', false,
                                                                       nlohmann::json::error_handler_t::replace);
}

}  // namespace relmoe
