#pragma once
// Writes .safetensors files without libtorch: an 8-byte header length, a JSON header
// (dtype, shape, data_offsets per tensor, optional __metadata__), then the raw data.
// Tensors are streamed one at a time, so a large checkpoint never has to sit in memory,
// and the file appears under its name only once complete (io/durable_file: AtomicWriter).
#include "io/durable_file.hpp"

#include <cstdint>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace relmoe {

struct SafetensorsEntry {
  std::string name;
  std::string dtype;  // "F32", "F16", "BF16", "I64", ...
  std::vector<std::int64_t> shape;
};

// Bytes per element for a safetensors dtype name; throws relmoe::Error for unknown names.
std::size_t safetensors_dtype_size(const std::string& dtype);

class SafetensorsWriter {
 public:
  // Writes the header for `entries` (data follows in the same order) to a temp file.
  SafetensorsWriter(std::filesystem::path path, std::vector<SafetensorsEntry> entries,
                    const std::map<std::string, std::string>& metadata = {});
  ~SafetensorsWriter();  // the file never appears unless finish() succeeded

  // Appends the next entry's data; `bytes` must equal its element count x dtype size.
  void write(const void* data, std::size_t bytes);
  // Checks every entry was written, then renames the temp file into place.
  void finish();

 private:
  std::filesystem::path path_;
  std::vector<SafetensorsEntry> entries_;
  std::size_t next_ = 0;
  AtomicWriter out_;
};

}  // namespace relmoe
