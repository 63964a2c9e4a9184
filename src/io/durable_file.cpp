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
}  // namespace

void fsync_path(const fs::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY);
  if (fd < 0) fail(path.string(), "cannot open for fsync: " + sys_error());
  ::fsync(fd);
  ::close(fd);
}

void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) fail(tmp.string(), "cannot create: " + sys_error());
  const char* p = text.data();
  std::size_t left = text.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      ::close(fd);
      fail(tmp.string(), "write failed: " + sys_error());
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) fail(tmp.string(), "fsync failed: " + sys_error());
  fs::rename(tmp, path);
  fsync_path(path.parent_path().empty() ? fs::path(".") : path.parent_path());
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
