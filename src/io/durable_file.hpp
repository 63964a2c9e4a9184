#pragma once
// Crash-safe file primitives shared by everything that commits work in steps (feature store,
// batch scorer): a file replaced atomically, and an append-only file whose committed prefix is
// recorded elsewhere (a manifest) and whose torn tail is cut off when it is reopened.
#include <cstdint>
#include <filesystem>
#include <string>

namespace relmoe {

// Writes `text` to `path` via a fsynced temp file and rename, then fsyncs the directory: after
// a crash `path` holds either the old or the new text, never a mix.
void write_atomically(const std::filesystem::path& path, const std::string& text);

// Flushes `path` (a file or a directory) to disk.
void fsync_path(const std::filesystem::path& path);

// An append-only file opened (created when absent) and cut back to `committed` bytes, the
// prefix a manifest says is durable. A file shorter than that is an error naming it.
class AppendFile {
 public:
  AppendFile(const std::filesystem::path& path, std::int64_t committed);
  ~AppendFile();
  AppendFile(const AppendFile&) = delete;
  AppendFile& operator=(const AppendFile&) = delete;

  void write(const void* data, std::size_t size);
  void write(const std::string& text) { write(text.data(), text.size()); }
  void sync();
  // Bytes in the file (committed prefix plus everything written since).
  std::int64_t size() const { return size_; }

 private:
  std::filesystem::path path_;
  int fd_ = -1;
  std::int64_t size_ = 0;
};

}  // namespace relmoe
