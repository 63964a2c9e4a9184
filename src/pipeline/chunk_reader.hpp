#pragma once
// The scorer's input side: pairs streamed from a TSV/CSV/JSONL file in chunks of a bounded
// size, filtered to one shard, with malformed rows either stopping the run (the error names
// file and line) or reported and counted. Memory holds one chunk, whatever the file size.
#include "data/pair_formats.hpp"
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

struct Chunk {
  std::int64_t index = 0;
  std::vector<Pair> pairs;  // this shard's pairs, in input order
  std::vector<std::size_t> lines;
  std::vector<Rejected> rejected;
  StreamPosition end;  // input position after the chunk
};

// Which shard reports a row: by id hash when the row parsed, else by line number (a row
// without a readable id still belongs to exactly one shard).
int shard_of_row(const std::string& id, std::size_t line, int count);

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
