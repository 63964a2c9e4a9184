#pragma once
// Labelled or unlabelled (query, item) pairs in the project's TSV schema:
//   id market lang query item item_desc label grade source
// A header row names the columns; id, market, query and item are required, the rest optional.
// Fields may not contain tabs or newlines (the writer rejects them).
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <vector>

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

// Streams pairs; every error names "<file>:<line>" and the column.
class PairReader {
 public:
  explicit PairReader(const std::filesystem::path& path);
  // Reads the next row into `pair`; false at end of file.
  bool next(Pair& pair);
  // 1-based line number of the row last returned.
  std::size_t line() const { return line_; }
  bool has_labels() const { return col_label_ >= 0; }

 private:
  std::filesystem::path path_;
  std::ifstream in_;
  std::size_t line_ = 0;
  std::size_t columns_ = 0;
  int col_id_ = -1, col_market_ = -1, col_lang_ = -1, col_query_ = -1, col_item_ = -1,
      col_desc_ = -1, col_label_ = -1, col_grade_ = -1, col_source_ = -1;
};

std::vector<Pair> read_pairs(const std::filesystem::path& path);

// Writes all columns with a header, atomically (temp file + rename): no partial file is
// ever left under `path`.
void write_pairs(const std::filesystem::path& path, const std::vector<Pair>& pairs);

}  // namespace relmoe
