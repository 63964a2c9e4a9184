#pragma once
// One line of a JSON-lines stream, parsed with a one-line error naming `where` (e.g. "stdin:3").
#include "base/error.hpp"

#include <nlohmann/json.hpp>

#include <string>

namespace relmoe::cli {

inline nlohmann::json parse_json_line(const std::string& line, const std::string& where) {
  try {
    return nlohmann::json::parse(line);
  } catch (const nlohmann::json::exception& e) {
    std::string what = e.what();  // drop nlohmann's "[json.exception.parse_error.101] " prefix
    if (auto close = what.find("] "); close != std::string::npos) what = what.substr(close + 2);
    fail(where, "invalid JSON: " + what);
  }
}

}  // namespace relmoe::cli
