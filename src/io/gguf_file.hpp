#pragma once
// Torch-free parsing and validation of a GGUF file (llama.cpp's model format, versions 2 and 3):
//   "GGUF" | u32 version | u64 tensor_count | u64 kv_count | kv_count x (key, type, value)
//   | tensor_count x (name, u32 n_dims, u64 dims[n_dims], u32 ggml type, u64 offset)
//   | padding to general.alignment (default 32) | tensor data (offsets relative to here)
// Everything is little-endian; strings are a u64 length and that many bytes. Every count and
// length is checked against the bytes left before anything is allocated, so a hostile file
// costs at most memory proportional to its own size.
#include "io/ggml_quants.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace relmoe {

enum class GgufType : std::uint32_t {
  UInt8 = 0, Int8 = 1, UInt16 = 2, Int16 = 3, UInt32 = 4, Int32 = 5, Float32 = 6, Bool = 7,
  String = 8, Array = 9, UInt64 = 10, Int64 = 11, Float64 = 12,
};
const char* gguf_type_name(GgufType type);

// An array value. Numeric elements stay in the file's bytes (read them with integer/number);
// strings are views into the bytes; nested arrays are parsed alike.
struct GgufArray {
  GgufType element = GgufType::UInt8;
  std::uint64_t count = 0;
  const std::uint8_t* data = nullptr;  // numeric and bool elements, packed
  std::vector<std::string_view> strings;
  std::vector<GgufArray> arrays;

  std::int64_t integer(std::size_t i) const;  // integer and bool elements
  double number(std::size_t i) const;         // any numeric element
};

struct GgufValue {
  GgufType type = GgufType::UInt8;
  std::uint64_t uint = 0;  // unsigned integers and bool
  std::int64_t sint = 0;   // signed integers
  double real = 0;         // floats
  std::string_view string;
  GgufArray array;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<std::uint64_t> dims;  // ggml order: dims[0] is the row (innermost) length
  const GgmlTypeInfo* type = nullptr;
  std::uint64_t offset = 0;         // absolute, in the file
  std::uint64_t bytes = 0;
  std::uint64_t elements = 0;
  // The shape in PyTorch's order (outermost first).
  std::vector<std::int64_t> shape() const;
};

class GgufFile {
 public:
  // Parses `bytes` (the whole file, typically memory-mapped; it must outlive the result).
  // Errors are relmoe::Error naming `file`, the byte offset and, where it applies, the key or
  // tensor: bad magic, big-endian or version 1 files, counts and lengths past the end, unknown
  // value or tensor types, more than 4 dimensions, element counts that overflow, rows that are
  // not whole blocks, misaligned, overlapping or out-of-file tensor data, duplicate names.
  static GgufFile parse(const std::uint8_t* bytes, std::size_t size, std::string file);

  const std::string& file() const { return file_; }
  std::uint32_t version() const { return version_; }
  std::uint64_t alignment() const { return alignment_; }
  std::uint64_t data_offset() const { return data_offset_; }
  const std::uint8_t* bytes() const { return bytes_; }
  const std::map<std::string, GgufValue, std::less<>>& metadata() const { return metadata_; }
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }

  const GgufValue* find(std::string_view key) const;
  const GgufTensorInfo* tensor(std::string_view name) const;
  // Typed metadata; a present key of the wrong type is an error naming the key.
  std::optional<std::uint64_t> uint(std::string_view key) const;  // any non-negative integer
  std::optional<double> number(std::string_view key) const;       // any integer or float
  std::optional<bool> boolean(std::string_view key) const;
  std::optional<std::string> string(std::string_view key) const;
  const GgufArray* array(std::string_view key, GgufType element) const;

 private:
  std::string file_;
  const std::uint8_t* bytes_ = nullptr;
  std::uint32_t version_ = 0;
  std::uint64_t alignment_ = 32;
  std::uint64_t data_offset_ = 0;
  std::map<std::string, GgufValue, std::less<>> metadata_;
  std::vector<GgufTensorInfo> tensors_;
};

// Dequantizes `count` elements of `tensor`, starting at element `first` (both whole blocks), to
// f32 in `dst`. A type relmoe does not dequantize is an error naming the tensor and its type.
void dequantize_elements(const GgufFile& file, const GgufTensorInfo& tensor, std::uint64_t first,
                         std::uint64_t count, float* dst);

}  // namespace relmoe
