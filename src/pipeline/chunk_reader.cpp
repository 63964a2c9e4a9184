#include "pipeline/chunk_reader.hpp"

#include "base/error.hpp"

namespace relmoe {

int shard_of_row(const std::string& id, std::size_t line, int count) {
  return id.empty() ? static_cast<int>(line % static_cast<std::size_t>(count)) : shard_of(id, count);
}

ChunkReader::ChunkReader(const std::filesystem::path& path, const ColumnMapping& mapping, PairFormat format,
                         Shard shard, std::int64_t chunk_size, bool skip_bad)
    : stream_(path, mapping, format), shard_(shard), chunk_size_(chunk_size), skip_bad_(skip_bad) {
  if (chunk_size < 1) fail("--chunk", "must be at least 1");
}

void ChunkReader::seek(const StreamPosition& position, std::int64_t next_chunk) {
  stream_.seek(position);
  next_index_ = next_chunk;
}

bool ChunkReader::next(Chunk& chunk) {
  chunk.index = next_index_;
  chunk.pairs.clear();
  chunk.lines.clear();
  chunk.rejected.clear();
  bool any = false;
  Pair pair;
  while (static_cast<std::int64_t>(chunk.pairs.size()) < chunk_size_) {
    try {
      if (!stream_.next(pair)) break;
    } catch (const Error& e) {
      if (!skip_bad_) throw;
      any = true;
      if (shard_of_row("", stream_.line(), shard_.count) == shard_.index)
        chunk.rejected.push_back({stream_.line(), "", one_line(e.what())});
      continue;
    }
    any = true;
    if (shard_of(pair.id, shard_.count) != shard_.index) continue;
    chunk.lines.push_back(stream_.line());
    chunk.pairs.push_back(std::move(pair));
  }
  chunk.end = stream_.position();
  if (any) ++next_index_;
  return any;
}

}  // namespace relmoe
