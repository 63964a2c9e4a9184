#pragma once
// The scorer's input side: pairs streamed from a TSV/CSV/JSONL file in chunks of a bounded
// size, filtered to one shard, with malformed rows either stopping the run (the error names
// file and line) or reported and counted. Memory holds one chunk, whatever the file size.
#include "io/pair_reader.hpp"
#include "pipeline/shard.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace relmoe {

// A row that was not scored, with the reason (one line).
struct Rejected {
  std::size_t line = 0;  // first line of the record in the input
  std::string id;        // "" when the row could not be parsed far enough
  std::string reason;
};

// Where reading stopped: the position after the last record read, and where that record
// began and its id ("" when it did not parse). A resumed run reads the record again from
// `last_start` to prove `end` is a record boundary of the same input.
struct ReadPoint {
  StreamPosition end;
  StreamPosition last_start;
  std::string last_id;
};

struct Chunk {
  std::int64_t index = 0;
  std::vector<Pair> pairs;  // this shard's pairs, in input order
  std::vector<std::size_t> lines;
  std::vector<Rejected> rejected;
  ReadPoint end;  // input position after the chunk
};

// Which shard reports a row: by id hash when the row parsed, else by line number (a row
// without a readable id still belongs to exactly one shard).
int shard_of_row(const std::string& id, std::size_t line, int count);

// Throws (naming `manifest`) unless the record at point.last_start of `path` ends at
// point.end and has id point.last_id, and point.end lies within the file.
void check_read_point(const std::filesystem::path& path, const ColumnMapping& mapping, PairFormat format,
                      const ReadPoint& point, const std::string& manifest);

class ChunkReader {
 public:
  ChunkReader(const std::filesystem::path& path, const ColumnMapping& mapping, PairFormat format, Shard shard,
              std::int64_t chunk_size, bool skip_bad);
  void seek(const StreamPosition& position, std::int64_t next_chunk);
  // The next chunk: up to chunk_size pairs of this shard; false when the input is exhausted
  // and nothing was read. Without skip_bad a malformed row throws (naming file and line).
  bool next(Chunk& chunk);

 private:
  PairStream stream_;
  Shard shard_;
  std::int64_t chunk_size_;
  bool skip_bad_;
  std::int64_t next_index_ = 0;
};

}  // namespace relmoe
