#include "io/hidden_cache.hpp"

#include "base/error.hpp"
#include "io/json_file.hpp"
#include "base/hash.hpp"
#include "io/durable_file.hpp"
#include "io/expert_base.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <vector>

namespace relmoe {

namespace fs = std::filesystem;

namespace {

std::string sys_error() { return std::strerror(errno); }

std::string file_entry(const fs::directory_entry& e) {
  const auto mtime = e.last_write_time().time_since_epoch().count();
  return e.path().filename().string() + ":" + std::to_string(e.file_size()) + ":" + std::to_string(mtime);
}

// Every file under `path` (or `path` itself when it is one file), training state left out.
void add_entries(const fs::path& path, const std::string& prefix, std::vector<std::string>& entries) {
  if (fs::is_regular_file(path)) return entries.push_back(prefix + file_entry(fs::directory_entry(path)));
  for (auto it = fs::recursive_directory_iterator(path); it != fs::recursive_directory_iterator(); ++it) {
    if (it->is_directory() && it->path().filename().string().starts_with(".")) it.disable_recursion_pending();
    else if (it->is_regular_file())
      entries.push_back(prefix + fs::relative(it->path(), path).string() + ":" + file_entry(*it));
  }
}

// Changes when the expert's files (a checkpoint directory or one GGUF file; for a fine-tuned
// expert, its adapter and its base checkpoint too) are replaced or retrained in place.
std::uint64_t fingerprint(const fs::path& expert) {
  std::vector<std::string> entries;
  add_entries(expert, "", entries);
  if (const auto base = expert_checkpoint(expert); base != expert) add_entries(base, "base/", entries);
  std::sort(entries.begin(), entries.end());
  std::string all;
  for (const auto& s : entries) all += s + "\n";
  return hash64(all);
}

void check_owner(const fs::path& meta, const nlohmann::json& want) {
  if (!fs::exists(meta)) {
    write_atomically(meta, want.dump(2) + "\n");
    return;
  }
  const nlohmann::json have = read_json_file(meta);
  if (have.value("width", std::int64_t{-1}) != want["width"] || have.value("fingerprint", "") != want["fingerprint"])
    fail(meta.string(), "the cache was filled by another version of this expert (" +
                            have.value("expert_dir", std::string("?")) +
                            "); use another --cache directory or delete this one");
  if (have.value("run", "") != want["run"])
    fail(meta.string(), "the cache was filled by a run in " + have.value("run", std::string("?")) + "; this run is in " +
                            want["run"].get<std::string>() + ": use another --cache directory");
}

}  // namespace

HiddenCache::Key HiddenCache::key_of(std::string_view prompt) {
  return {hash64(prompt, 0x7265'6c6d'6f65'0001ULL), hash64(prompt, 0x7265'6c6d'6f65'0002ULL)};
}

HiddenCache::HiddenCache(const fs::path& dir, const std::string& expert, const fs::path& expert_dir,
                         std::int64_t width, const std::string& run)
    : path_(dir / (expert + ".cache")), width_(width), record_bytes_(16 + 4 * width + 8) {
  fs::create_directories(dir);
  check_owner(dir / (expert + ".json"), {{"width", width},
                                         {"fingerprint", std::to_string(fingerprint(expert_dir))},
                                         {"expert_dir", fs::absolute(expert_dir).string()},
                                         {"run", run}});
  fd_ = ::open(path_.c_str(), O_RDWR | O_CREAT, 0644);
  if (fd_ < 0) fail(path_.string(), "cannot open: " + sys_error());
  struct stat st {};
  ::fstat(fd_, &st);
  const auto records = static_cast<std::int64_t>(st.st_size) / static_cast<std::int64_t>(record_bytes_);
  end_ = records * static_cast<std::int64_t>(record_bytes_);
  if (end_ != st.st_size && ::ftruncate(fd_, end_) != 0) fail(path_.string(), "cannot cut torn tail: " + sys_error());
  std::vector<char> buf(record_bytes_);
  for (std::int64_t r = 0; r < records; ++r) {
    const auto at = r * static_cast<std::int64_t>(record_bytes_);
    if (::pread(fd_, buf.data(), 16, at) != 16) fail(path_.string(), "read failed: " + sys_error());
    Key k;
    std::memcpy(&k.a, buf.data(), 8);
    std::memcpy(&k.b, buf.data() + 8, 8);
    index_[k] = at;
  }
}

HiddenCache::~HiddenCache() {
  if (fd_ >= 0) ::close(fd_);
}

bool HiddenCache::lookup(const Key& key, float* out) const {
  auto it = index_.find(key);
  if (it == index_.end()) return false;
  std::vector<char> buf(record_bytes_);
  if (::pread(fd_, buf.data(), record_bytes_, it->second) != static_cast<ssize_t>(record_bytes_)) return false;
  const std::string_view payload(buf.data() + 16, 4 * width_);
  std::uint64_t check = 0;
  std::memcpy(&check, buf.data() + 16 + 4 * width_, 8);
  if (check != hash64(payload)) return false;
  std::memcpy(out, payload.data(), payload.size());
  return true;
}

void HiddenCache::insert(const Key& key, const float* row) {
  if (index_.count(key)) return;
  std::string record(record_bytes_, '\0');
  std::memcpy(record.data(), &key.a, 8);
  std::memcpy(record.data() + 8, &key.b, 8);
  std::memcpy(record.data() + 16, row, 4 * width_);
  const std::uint64_t check = hash64(std::string_view(record.data() + 16, 4 * width_));
  std::memcpy(record.data() + 16 + 4 * width_, &check, 8);
  if (::pwrite(fd_, record.data(), record.size(), end_) != static_cast<ssize_t>(record.size()))
    fail(path_.string(), "write failed: " + sys_error());
  index_[key] = end_;
  end_ += static_cast<std::int64_t>(record_bytes_);
}

}  // namespace relmoe
