#pragma once
// Reading (query, item) pairs from TSV, CSV (RFC 4180 quoting) or JSON Lines with any column
// names: a mapping says which source column fills which Pair field. Every line is checked to be
// valid UTF-8; every error names "<file>:<line>" (and the byte column for bad UTF-8).
#include "io/pair.hpp"

#include <filesystem>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace relmoe {

enum class PairFormat { Auto, Tsv, Csv, Jsonl };

// "auto", "tsv", "csv" or "jsonl"; anything else throws relmoe::Error.
PairFormat parse_pair_format(std::string_view name);

// The format of `path` by extension (.tsv/.txt, .csv, .jsonl/.ndjson/.json); error otherwise.
PairFormat format_of(const std::filesystem::path& path);

// Pair field -> source column (TSV/CSV header name or JSON key). Fields not mapped are read from
// the column of the same name when present. Fields: id market lang query item item_desc label
// grade source. Absent id -> "<file stem>-<line>"; absent market -> "default".
using ColumnMapping = std::map<std::string, std::string>;

// Parses "query=q,item=title,label=rel"; unknown fields or malformed entries throw.
ColumnMapping parse_column_mapping(std::string_view spec);

// Where a stream stands: the byte offset and line number reached.
struct StreamPosition {
  std::uint64_t offset = 0;
  std::size_t line = 0;
};

// Reads pairs one record at a time (memory independent of the file size). A malformed record
// throws relmoe::Error naming "<file>:<line>"; the stream stays usable and the next call reads
// the record after it, so a caller may report, count and skip bad rows. A bad header throws
// from the constructor.
class PairStream {
 public:
  explicit PairStream(const std::filesystem::path& path, const ColumnMapping& mapping = {},
                      PairFormat format = PairFormat::Auto);
  ~PairStream();
  PairStream(const PairStream&) = delete;
  PairStream& operator=(const PairStream&) = delete;

  // The next record into `pair`; false at end of file.
  bool next(Pair& pair);
  // First line of the record last read or attempted (1-based).
  std::size_t line() const;
  // After the last record read; seek() to it on a new stream over the same file continues there.
  StreamPosition position() const;
  void seek(const StreamPosition& position);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Reads all pairs of a file; query and item must be non-empty, label (when present) 0 or 1
// (JSON true/false accepted).
std::vector<Pair> read_pairs(const std::filesystem::path& path, const ColumnMapping& mapping = {},
                                 PairFormat format = PairFormat::Auto);

}  // namespace relmoe
