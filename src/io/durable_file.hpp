#pragma once
// Crash-safe file primitives: every file relmoe writes goes through them. A file or directory
// is built under a temp name and appears under its own name only once complete and on disk,
// so an interrupted run (kill, Ctrl-C, full disk) never leaves an artefact that looks finished;
// an append-only file's committed prefix is recorded elsewhere (a manifest) and its torn tail
// is cut off when it is reopened.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

namespace relmoe {

// Writes `text` to `path` via an AtomicWriter: after a crash `path` holds either the old or the
// new text, never a mix.
void write_atomically(const std::filesystem::path& path, const std::string& text);

// Flushes `path` (a file or a directory) to disk.
void fsync_path(const std::filesystem::path& path);

// Renames `from` to `to` and flushes the directory entry of `to`.
void rename_durably(const std::filesystem::path& from, const std::filesystem::path& to);

// A file streamed to "<path>.tmp.<pid>" and published by commit(): flushed, fsynced, renamed
// onto `path`, directory fsynced. Destroyed before commit(), the temp file is removed.
class AtomicWriter {
 public:
  explicit AtomicWriter(std::filesystem::path path);
  ~AtomicWriter();
  AtomicWriter(const AtomicWriter&) = delete;
  AtomicWriter& operator=(const AtomicWriter&) = delete;

  std::ostream& stream() { return out_; }
  void write(const void* data, std::size_t size);
  void commit();

 private:
  std::filesystem::path path_, temp_;
  std::ofstream out_;
  bool committed_ = false;
};

// A directory filled under "<dir>.tmp.<pid>" and then published, either replacing `dir` whole
// (publish) or moved file by file into an existing `dir` with `last` moved last (publish_into:
// readers take `last`'s presence as completeness). Destroyed unpublished, it is removed.
class StagingDirectory {
 public:
  explicit StagingDirectory(std::filesystem::path dir);
  ~StagingDirectory();
  StagingDirectory(const StagingDirectory&) = delete;
  StagingDirectory& operator=(const StagingDirectory&) = delete;

  const std::filesystem::path& path() const { return staging_; }
  void publish();
  void publish_into(const std::string& last);

 private:
  std::filesystem::path dir_, staging_;
  bool published_ = false;
};

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
