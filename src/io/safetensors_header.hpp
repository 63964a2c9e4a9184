#pragma once
// Torch-free parsing and validation of a safetensors file's header:
//   u64 little-endian N | N bytes of JSON | tensor data
// JSON: {"<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
//        "__metadata__": {"<key>": "<string>"}}, offsets relative to the start of the data.
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace relmoe {

enum class StDType { F64, F32, F16, BF16, I64, I32, I16, I8, U8, BOOL };

std::size_t dtype_size(StDType dtype);
const char* dtype_name(StDType dtype);

struct TensorEntry {
  std::string name;
  StDType dtype;
  std::vector<std::int64_t> shape;
  std::uint64_t begin = 0;  // byte offsets relative to the data section
  std::uint64_t end = 0;
};

struct SafetensorsHeader {
  std::vector<TensorEntry> tensors;  // sorted by begin offset
  std::map<std::string, std::string> metadata;
  std::uint64_t data_offset = 0;  // where the data section starts in the file
};

// Parses and validates the header of a whole file held in `bytes` (typically memory-mapped).
// Rejects truncated files, malformed JSON, unknown dtypes, negative or overflowing shapes,
// offsets that overlap, leave gaps of the wrong size or run past the file.
// Errors are relmoe::Error naming `file` and, where it applies, the tensor.
SafetensorsHeader parse_safetensors_header(const std::uint8_t* bytes, std::size_t size,
                                           const std::string& file);

}  // namespace relmoe
