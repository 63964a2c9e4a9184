#include "io/durable_file.hpp"

#include "base/error.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace relmoe {

namespace fs = std::filesystem;

namespace {
std::string sys_error() { return std::strerror(errno); }
fs::path temp_name(const fs::path& path) { return path.string() + ".tmp." + std::to_string(::getpid()); }

void fsync_parent(const fs::path& path) {
  fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path());
}

}  // namespace

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(path.string(), "cannot open for fsync: " + sys_error());
  const bool ok = ::fsync(fd) == 0;
  ::close(fd);
  if (!ok && fs::is_regular_file(path)) fail(path.string(), "fsync failed: " + sys_error());
}

void rename_durably(const fs::path& from, const fs::path& to) {
  fs::rename(from, to);
  fsync_parent(to);
}

void write_atomically(const fs::path& path, const std::string& text) {
  AtomicWriter out(path);
  out.write(text.data(), text.size());
  out.commit();
}

AtomicWriter::AtomicWriter(fs::path path)
    : path_(std::move(path)), temp_(temp_name(path_)), out_(temp_, std::ios::binary | std::ios::trunc) {
  if (!out_) fail(temp_.string(), "cannot create: " + sys_error());
}

AtomicWriter::~AtomicWriter() {
  if (committed_) return;
  out_.close();
  std::error_code ignored;
  fs::remove(temp_, ignored);
}

void AtomicWriter::write(const void* data, std::size_t size) {
  out_.write(static_cast<const char*>(data), static_cast<std::streamsize>(size));
}

void AtomicWriter::commit() {
  out_.close();
  if (!out_) fail(temp_.string(), "write failed (disk full?)");
  fsync_path(temp_);
  rename_durably(temp_, path_);
  committed_ = true;
}

StagingDirectory::StagingDirectory(fs::path dir) : dir_(std::move(dir)), staging_(temp_name(dir_)) {
  fs::remove_all(staging_);
  fs::create_directories(staging_);
}

StagingDirectory::~StagingDirectory() {
  if (published_) return;
  std::error_code ignored;
  fs::remove_all(staging_, ignored);
}

void StagingDirectory::publish() {
  for (const auto& entry : fs::directory_iterator(staging_))
    if (entry.is_regular_file()) fsync_path(entry.path());
  fs::remove_all(dir_);
  rename_durably(staging_, dir_);
  published_ = true;
}

void StagingDirectory::publish_into(const std::string& last) {
  fs::create_directories(dir_);
  for (const auto& entry : fs::directory_iterator(staging_)) {
    if (entry.is_regular_file()) fsync_path(entry.path());
    if (entry.path().filename() != last) fs::rename(entry.path(), dir_ / entry.path().filename());
  }
  rename_durably(staging_ / last, dir_ / last);
  fs::remove_all(staging_);
  published_ = true;
}

AppendFile::AppendFile(const fs::path& path, std::int64_t committed) : path_(path) {
  fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT, 0644);
  if (fd_ < 0) fail(path.string(), "cannot open for writing: " + sys_error());
  struct stat st {};
  ::fstat(fd_, &st);
  if (st.st_size < committed) {
    ::close(fd_);
    fail(path.string(), "holds " + std::to_string(st.st_size) + " bytes but the manifest commits " +
                            std::to_string(committed) + " (file truncated or replaced)");
  }
  if (::ftruncate(fd_, committed) != 0 || ::lseek(fd_, committed, SEEK_SET) < 0) {
    ::close(fd_);
    fail(path.string(), "cannot truncate torn tail: " + sys_error());
  }
  size_ = committed;
}

AppendFile::~AppendFile() {
  if (fd_ >= 0) ::close(fd_);
}

void AppendFile::write(const void* data, std::size_t size) {
  const char* p = static_cast<const char*>(data);
  size_ += static_cast<std::int64_t>(size);
  while (size > 0) {
    const ssize_t n = ::write(fd_, p, size);
    if (n < 0) fail(path_.string(), "write failed: " + sys_error());
    p += n;
    size -= static_cast<std::size_t>(n);
  }
}

void AppendFile::sync() {
  if (::fsync(fd_) != 0) fail(path_.string(), "fsync failed: " + sys_error());
}

}  // namespace relmoe
