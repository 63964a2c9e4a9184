#include "pipeline/chunk_reader.hpp"

#include "base/error.hpp"

namespace relmoe {

int shard_of_row(const std::string& id, std::size_t line, int count) {
  return id.empty() ? static_cast<int>(line % static_cast<std::size_t>(count)) : shard_of(id, count);
}

void check_read_point(const std::filesystem::path& path, const ColumnMapping& mapping, PairFormat format,
                      const ReadPoint& point, const std::string& manifest) {
  const auto bytes = std::filesystem::file_size(path);
  if (point.end.offset > bytes || point.last_start.offset >= point.end.offset)
    fail(manifest, "records input offset " + std::to_string(point.end.offset) + " (last record at " +
                       std::to_string(point.last_start.offset) + ") but " + path.string() + " has " +
                       std::to_string(bytes) + " bytes");
  PairStream stream(path, mapping, format);
  stream.seek(point.last_start);
  Pair pair;
  std::string id;
  try {
    if (stream.next(pair)) id = pair.id;
  } catch (const Error&) {
    // A malformed record: its id is recorded as "".
  }
  const auto end = stream.position();
  if (end.offset != point.end.offset || end.line != point.end.line || id != point.last_id)
    fail(manifest, "input offset " + std::to_string(point.end.offset) + " is not where the record '" + point.last_id +
                       "' it follows ends in " + path.string() + " (the input or the manifest changed)");
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
    const StreamPosition start = stream_.position();
    try {
      if (!stream_.next(pair)) break;
      chunk.end.last_id = pair.id;
    } catch (const Error& e) {
      if (!skip_bad_) throw;
      chunk.end.last_start = start;
      chunk.end.last_id.clear();
      any = true;
      if (shard_of_row("", stream_.line(), shard_.count) == shard_.index)
        chunk.rejected.push_back({stream_.line(), "", one_line(e.what())});
      continue;
    }
    chunk.end.last_start = start;
    any = true;
    if (shard_of(pair.id, shard_.count) != shard_.index) continue;
    chunk.lines.push_back(stream_.line());
    chunk.pairs.push_back(std::move(pair));
  }
  chunk.end.end = stream_.position();
  if (any) ++next_index_;
  return any;
}

}  // namespace relmoe
