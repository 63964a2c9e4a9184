#pragma once
// One (query, item) pair of the project's schema: id market lang query item item_desc label
// grade source. Read from TSV, CSV or JSON Lines by io/pair_reader, written as TSV by
// io/pair_writer.
#include <optional>
#include <string>

namespace relmoe {

struct Pair {
  std::string id;
  std::string market;
  std::string lang;
  std::string query;
  std::string item;
  std::string item_desc;
  std::optional<float> label;  // 1 relevant, 0 not; absent when unlabelled
  std::optional<float> grade;
  std::string source;
};

}  // namespace relmoe
