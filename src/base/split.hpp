#pragma once
// Splitting a line into its fields: every separator starts a new field, so "a\t\tb" has three
// and an empty line one (empty) field.
#include <string>
#include <vector>

namespace relmoe {

inline std::vector<std::string> split_fields(const std::string& line, char sep) {
  std::vector<std::string> fields;
  std::size_t start = 0;
  while (true) {
    const auto at = line.find(sep, start);
    fields.push_back(line.substr(start, at == std::string::npos ? at : at - start));
    if (at == std::string::npos) return fields;
    start = at + 1;
  }
}

}  // namespace relmoe
