#pragma once
// A whole file mapped into memory (private, copy-on-write): pages load on demand and are
// shared with the page cache, so a mapped checkpoint costs no copy.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

namespace relmoe {

class MappedFile {
 public:
  static std::shared_ptr<MappedFile> open(const std::filesystem::path& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  std::uint8_t* data() const { return data_; }
  std::size_t size() const { return size_; }
  const std::filesystem::path& path() const { return path_; }
  // Drops the pages wholly inside bytes [begin, end) from this process's memory; touched again,
  // they read back from the file. For data read once (a quantized tensor dequantized at load), so
  // that the mapping does not stay resident beside what was made of it. Never for a range this
  // process has written: in a private mapping the edit would be lost.
  void release(std::size_t begin, std::size_t end) const;

 private:
  MappedFile(std::filesystem::path path, std::uint8_t* data, std::size_t size)
      : path_(std::move(path)), data_(data), size_(size) {}
  std::filesystem::path path_;
  std::uint8_t* data_;
  std::size_t size_;
};

}  // namespace relmoe
