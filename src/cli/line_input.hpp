#pragma once
// What `relmoe tokenize` and `relmoe hidden` read per JSON line: {"text": a}, {"text": a,
// "pair": b} (a sentence pair through the tokenizer's pair template, with token type ids) or,
// for `hidden`, {"ids": [...], "type_ids"?: [...]}. Errors name the line.
#include "base/error.hpp"
#include "text/tokenizer.hpp"

#include <nlohmann/json.hpp>

#include <charconv>
#include <string>

namespace relmoe::cli {

inline bool is_text_line(const nlohmann::json& value) {
  return value.is_object() && value.contains("text") && value["text"].is_string();
}

inline Encoding encode_text_line(const nlohmann::json& value, const Tokenizer& tokenizer, bool add_special,
                                 const std::string& where) {
  if (!is_text_line(value)) fail(where, "expected an object with a string \"text\" (and optionally \"pair\")");
  try {
    const auto text = value["text"].get<std::string>();
    if (!value.contains("pair")) {
      auto ids = tokenizer.encode(text, add_special);
      return {ids, std::vector<std::int32_t>(ids.size(), 0)};
    }
    if (!value["pair"].is_string()) fail(where, "\"pair\" must be a string");
    return tokenizer.encode_pair(text, value["pair"].get<std::string>(), add_special);
  } catch (const Error& e) {
    fail(where, e.what());
  }
}

// {"ids": [...], "type_ids"?: [...]}, every id in [0, vocab) and type id in [0, types).
inline Encoding ids_line(const nlohmann::json& value, std::int64_t vocab, std::int64_t types, const std::string& where) {
  Encoding e;
  auto read = [&](const char* key, std::int64_t limit, const char* label, auto& out) {
    for (const auto& id : value[key]) {
      if (!id.is_number_integer() || id.get<std::int64_t>() < 0 || id.get<std::int64_t>() >= limit)
        fail(where, std::string(label) + " " + id.dump() + " is not a token " + label + " of this model (" +
                        std::to_string(limit) + " of them)");
      out.push_back(id.get<std::int32_t>());
    }
  };
  read("ids", vocab, "id", e.ids);
  if (value.contains("type_ids")) {
    if (!value["type_ids"].is_array()) fail(where, "\"type_ids\" must be an array");
    read("type_ids", types, "type id", e.type_ids);
    if (e.type_ids.size() != e.ids.size()) fail(where, "\"type_ids\" and \"ids\" differ in length");
  } else {
    e.type_ids.assign(e.ids.size(), 0);
  }
  return e;
}

template <typename T>
void append_array(std::string& out, const std::vector<T>& values) {
  out += '[';
  char digits[32];
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i) out += ", ";
    out.append(digits, std::to_chars(digits, digits + sizeof digits, values[i]).ptr);
  }
  out += ']';
}

}  // namespace relmoe::cli
